import { v7 as uuidv7, validate, version } from 'uuid';

export const newId = (): string => uuidv7();

/** True for any well-formed UUID; ids from clients are checked before they reach SQL. */
export const isId = (value: unknown): value is string => typeof value === 'string' && validate(value);

export const isUuidV7 = (value: string): boolean => validate(value) && version(value) === 7;
