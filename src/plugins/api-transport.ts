import type { Operation } from './api-description.js';

/**
 * What the route schemas cannot say about how a route is called and answers: the catalogue writes also take
 * multipart uploads, the gateway's callbacks come as HTML forms, and some routes answer a redirect.
 */

type Json = Record<string, unknown>;

/** The catalogue writes that also take multipart (src/lib/uploads.ts): the field their images come in. */
export const UPLOADS: Record<string, { field: 'file' | 'files'; what: string }> = {
  'POST /api/v1/division/create': { field: 'file', what: 'The thumbnail: one JPEG, PNG or WebP image.' },
  'PATCH /api/v1/division/{id}': {
    field: 'file',
    what: 'A new thumbnail (one JPEG, PNG or WebP image); the old file is deleted.',
  },
  'POST /api/v1/tour/create': {
    field: 'files',
    what: 'The tour images: JPEG, PNG or WebP, up to UPLOAD_MAX_FILES (10) per request.',
  },
  'PATCH /api/v1/tour/{id}': {
    field: 'files',
    what: 'Images added to those `data.images` keeps: JPEG, PNG or WebP, up to UPLOAD_MAX_FILES (10) per request.',
  },
};

/** Routes the payment gateway (or the payer's browser, sent by it) calls with an HTML form. */
export const GATEWAY_FORMS = [
  'POST /api/v1/payment/success',
  'POST /api/v1/payment/fail',
  'POST /api/v1/payment/cancel',
  'POST /api/v1/payment/validate-payment',
];

/** Routes that answer a redirect rather than JSON, with where it leads. */
export const REDIRECTS: Record<string, string> = {
  'POST /api/v1/payment/success':
    "The browser goes to the success result page (`SSL_SUCCESS_FRONTEND_URL`, `FRONTEND_URL/payment/success` or this server's " +
    'own `/api/v1/payment/result/success`) with `transactionId`, `message`, `amount` and `status`, or to the fail ' +
    'page when the payment could not be confirmed.',
  'POST /api/v1/payment/fail':
    "The browser goes to the fail result page (`SSL_FAIL_FRONTEND_URL`, `FRONTEND_URL/payment/fail` or this server's own " +
    '`/api/v1/payment/result/fail`) with `transactionId`, `message`, `amount` and `status`.',
  'POST /api/v1/payment/cancel':
    "The browser goes to the cancel result page (`SSL_CANCEL_FRONTEND_URL`, `FRONTEND_URL/payment/cancel` or this server's " +
    'own `/api/v1/payment/result/cancel`) with `transactionId`, `message`, `amount` and `status`.',
  'GET /api/v1/auth/google': "The browser goes to Google's sign-in page.",
  'GET /api/v1/auth/google/callback':
    'The browser goes to the front end at the `redirect` path asked for, signed in (cookies set); after a failure, to ' +
    '`FRONTEND_URL/login?error=<message>`.',
};

/** The multipart form of a catalogue write: `data` holds the JSON body, the images come as files. */
function multipartBody(json: unknown, upload: (typeof UPLOADS)[string]) {
  const binary = { type: 'string', format: 'binary' };
  return {
    schema: {
      type: 'object',
      properties: {
        data: {
          ...(json as Json),
          description:
            'The same fields as the JSON body, as one JSON text (a text field, or a part typed application/json).',
        },
        [upload.field]:
          upload.field === 'files'
            ? { type: 'array', items: binary, description: upload.what }
            : {
                ...binary,
                description: upload.what,
              },
      },
    },
    encoding: { data: { contentType: 'application/json' } },
  };
}

/** The answers and bodies the route schemas cannot say: uploads, gateway forms, redirects. */
export function completeTransport(key: string, operation: Operation) {
  const json = operation.requestBody?.content?.['application/json'];
  const upload = UPLOADS[key];
  if (json && upload) {
    operation.requestBody!.content!['multipart/form-data'] = multipartBody(
      structuredClone(json.schema),
      upload,
    );
  }
  if (json && GATEWAY_FORMS.includes(key)) {
    operation.requestBody!.content!['application/x-www-form-urlencoded'] = {
      schema: structuredClone(json.schema),
    };
  }
  const redirect = REDIRECTS[key];
  if (redirect) {
    operation.responses ??= {};
    delete operation.responses['200'];
    operation.responses['302'] = {
      description: `Redirect (302). ${redirect}`,
      headers: { Location: { description: 'Where the browser goes next', schema: { type: 'string' } } },
    };
  }
}
