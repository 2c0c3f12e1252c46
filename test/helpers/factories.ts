import { randomBytes } from 'node:crypto';
import type { AppContext } from '../../src/context.js';
import { type IsActive, type Role, userAuths, users } from '../../src/db/schema/index.js';
import { hashPassword } from '../../src/lib/passwords.js';
import { startSession } from '../../src/modules/auth/sessions.js';

export interface TestUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  password: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
  /** `Authorization` header value for this user. */
  auth: { authorization: string };
}

export interface UserOptions {
  role?: Role;
  email?: string;
  name?: string;
  password?: string;
  isVerified?: boolean;
  isActive?: IsActive;
  isDeleted?: boolean;
  phone?: string | null;
  address?: string | null;
}

let hashCache: { password: string; hash: string } | undefined;

/** Inserts a user directly (fast path for tests that are not about registration) and opens a session. */
export async function createUser(ctx: AppContext, options: UserOptions = {}): Promise<TestUser> {
  const password = options.password ?? 'Correct-Horse-9';
  if (hashCache?.password !== password) hashCache = { password, hash: await hashPassword(password) };
  const email = options.email ?? `user-${randomBytes(5).toString('hex')}@example.com`;
  const name = options.name ?? 'Test User';
  const role = options.role ?? 'USER';
  const [row] = await ctx.db
    .insert(users)
    .values({
      name,
      email,
      passwordHash: hashCache.hash,
      role,
      isVerified: options.isVerified ?? true,
      isActive: options.isActive ?? 'ACTIVE',
      isDeleted: options.isDeleted ?? false,
      phone: options.phone === undefined ? '01712345678' : options.phone,
      address: options.address === undefined ? 'House 1, Road 2, Dhaka' : options.address,
      // Signed up by the app's clock, as registration records it (not PostgreSQL's own now()).
      createdAt: ctx.clock.now(),
      updatedAt: ctx.clock.now(),
    })
    .returning();
  await ctx.db.insert(userAuths).values({ userId: row!.id, provider: 'credentials', providerId: email });
  const tokens = await startSession(
    ctx.db,
    ctx,
    { id: row!.id, email, role },
    { ip: '127.0.0.1', userAgent: 'vitest' },
    ctx.clock.now(),
  );
  return {
    id: row!.id,
    email,
    name,
    role,
    password,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    sessionId: tokens.sessionId,
    auth: { authorization: `Bearer ${tokens.accessToken}` },
  };
}
