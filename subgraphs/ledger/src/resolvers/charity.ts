import type { CharityResolvers } from '../generated/resolvers';

export const Charity: CharityResolvers = {
  // Charities are public to their program's members; the name and total are not sensitive.
  // Batched: N representations from the gateway are one SQL statement.
  __resolveReference: ({ id }, { loaders }) => loaders.charityById.load(id),
};
