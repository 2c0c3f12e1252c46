import { hash, verify } from '@node-rs/argon2';
import bcrypt from 'bcryptjs';

/** OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane (argon2id is the library's default algorithm). */
export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2_PARAMS);

/** bcrypt hashes as the legacy backend stored them (bcryptjs); `needsRehash` replaces them at the first sign-in. */
const LEGACY_BCRYPT = /^\$2[aby]\$\d\d\$/;

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    if (LEGACY_BCRYPT.test(hashed)) return await bcrypt.compare(password, hashed);
    return await verify(hashed, password);
  } catch {
    return false;
  }
}

/** True when a stored hash was made with other parameters and should be replaced at the next sign-in. */
export function needsRehash(hashed: string): boolean {
  const { memoryCost, timeCost, parallelism } = ARGON2_PARAMS;
  return !hashed.startsWith(`$argon2id$v=19$m=${memoryCost},t=${timeCost},p=${parallelism}$`);
}

// A real hash of a random string: comparing against it costs the same as a real check,
// so unknown emails answer in the same time as wrong passwords.
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(`dummy-${Math.random()}`);
  return dummyHash;
}
