/**
 * The error a function throws, for asserting its class, code and field; fails the test when it
 * does not throw. A separate entry point (`@loyalty-graph/testing/errors`) so unit tests do not
 * load the supergraph helpers.
 */
export function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
