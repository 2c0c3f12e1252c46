import { v7 as uuidv7, validate } from 'uuid';

export const newId = (): string => uuidv7();

/** True for any well-formed UUID; ids from clients are checked before they reach SQL. */
export const isId = (value: unknown): value is string => typeof value === 'string' && validate(value);
