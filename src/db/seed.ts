import { eq } from 'drizzle-orm';
import type { Config } from '../config.js';
import { hashPassword } from '../lib/passwords.js';
import type { Database } from './client.js';
import { userAuths, users } from './schema/index.js';

/** Creates the configured super admin when no user has that email. Returns true when it was created. */
export async function seedSuperAdmin(db: Database, config: Config): Promise<boolean> {
  const email = config.superAdmin.email;
  const [existing] = await db.select({ id: users.id }).from(users).where(eq(users.email, email)).limit(1);
  if (existing) return false;
  const passwordHash = await hashPassword(config.superAdmin.password);
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(users)
      .values({ name: 'Super Admin', email, passwordHash, role: 'SUPER_ADMIN', isVerified: true })
      .onConflictDoNothing()
      .returning({ id: users.id });
    if (!created) return false;
    await tx.insert(userAuths).values({ userId: created.id, provider: 'credentials', providerId: email });
    return true;
  });
}
