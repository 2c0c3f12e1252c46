import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ok, successSchema } from '../../lib/envelope.js';
import type { AuthGuard } from '../../plugins/auth-guard.js';
import { SIGNED_IN as security } from '../../plugins/docs.js';
import { caller } from '../auth/http.js';
import {
  createReviewBody,
  reviewIdParams,
  reviewListQuery,
  reviewListSchema,
  reviewSchema,
  tourIdParams,
  updateReviewBody,
} from './schemas.js';
import { REVIEW_EDIT_WINDOW_DAYS, type ReviewService } from './service.js';

const tags = ['Reviews'];

/** Reviews of tours: written and listed under /tour/:tourId/reviews, changed and removed under /reviews/:id. */
export const reviewRoutes: FastifyPluginAsyncZod<{ reviews: ReviewService; guard: AuthGuard }> = async (
  app,
  { reviews, guard },
) => {
  const signedIn = guard.requireAuth();
  const admin = guard.requireAuth('ADMIN', 'SUPER_ADMIN');
  // The public list needs no token; the admins' view (any `hidden`) does.
  const adminWhenHidden: typeof admin = async function (request, reply) {
    if ((request.query as { hidden?: unknown }).hidden !== undefined) await admin.call(this, request, reply);
  };

  app.post(
    '/tour/:tourId/reviews',
    {
      preValidation: signedIn,
      schema: {
        security,
        tags,
        summary: 'Review a trip you took',
        description:
          "For the caller's own paid (`COMPLETE`) booking of this tour whose trip has ended; one review per " +
          'booking (409 for a second). A booking of someone else is a 404; a booking that is not paid, not ended ' +
          'or of another tour is a 400 naming `booking`.',
        params: tourIdParams,
        body: createReviewBody,
        response: { 201: successSchema(reviewSchema) },
      },
    },
    async (request, reply) =>
      ok(
        reply,
        'Review created',
        await reviews.create(caller(request), request.params.tourId, request.body),
        { statusCode: 201 },
      ),
  );

  app.get(
    '/tour/:tourId/reviews',
    {
      preValidation: adminWhenHidden,
      schema: {
        tags,
        summary: "A tour's reviews, newest first",
        description:
          'Hidden reviews are left out. `sort` by `createdAt` or `rating` (`-` for descending; default ' +
          "`-createdAt`), `page`, `limit`. `meta` also carries the tour's rating: `average` (one decimal, null " +
          'without reviews) and `count`. Admins only (a bearer token or the cookie; 401/403 for anyone else): `hidden=true` lists the hidden ' +
          'reviews instead (hidden by an admin, or because their booking was cancelled and refunded in full), ' +
          "`hidden=false` the visible ones; both show each review's `hidden`.",
        params: tourIdParams,
        querystring: reviewListQuery,
        response: { 200: reviewListSchema },
      },
    },
    async (request, reply) => {
      const { items, meta } = await reviews.list(request.params.tourId, request.query);
      return ok(reply, 'Reviews retrieved', items, { meta });
    },
  );

  app.patch(
    '/reviews/:id',
    {
      preValidation: signedIn,
      schema: {
        security,
        tags,
        summary: 'Change a review (author) or hide it (admin)',
        description:
          `Its author may change \`rating\` and \`comment\` within ${REVIEW_EDIT_WINDOW_DAYS} days of writing it ` +
          '(409 after); an admin may set `hidden` (403 for anyone else), which takes it out of the list and the ' +
          "tour's rating. Anyone but the author and admins gets a 404.",
        params: reviewIdParams,
        body: updateReviewBody,
        response: { 200: successSchema(reviewSchema) },
      },
    },
    async (request, reply) =>
      ok(reply, 'Review updated', await reviews.update(caller(request), request.params.id, request.body)),
  );

  app.delete(
    '/reviews/:id',
    {
      preValidation: signedIn,
      schema: {
        security,
        tags,
        summary: 'Delete a review (author or admin)',
        description: 'Anyone but the author and admins gets a 404.',
        params: reviewIdParams,
        response: { 200: successSchema(z.null()) },
      },
    },
    async (request, reply) => {
      await reviews.remove(caller(request), request.params.id);
      return ok(reply, 'Review deleted', null);
    },
  );
};
