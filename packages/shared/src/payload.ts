import { badUserInput, DomainError, InputError, type UserError } from './errors';

export type Payload<K extends string, T> = { [P in K]: T | null } & { userErrors: UserError[] };

/**
 * Runs a mutation and shapes its payload: expected business failures (DomainError) become
 * `userErrors`, malformed input (InputError) a BAD_USER_INPUT error naming the field. Anything
 * else is a bug and propagates to be masked and logged.
 */
export async function toPayload<K extends string, T>(key: K, run: () => Promise<T>): Promise<Payload<K, T>> {
  try {
    const value = await run();
    return { [key]: value, userErrors: [] } as Payload<K, T>;
  } catch (error) {
    if (error instanceof DomainError) return { [key]: null, userErrors: [error.toUserError()] } as Payload<K, T>;
    if (error instanceof InputError) throw badUserInput(error.message, error.field);
    throw error;
  }
}

/** The same mapping for queries: malformed input becomes BAD_USER_INPUT. */
export async function rethrowInput<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof InputError) throw badUserInput(error.message, error.field);
    throw error;
  }
}
