import type { JournalLineResolvers } from '../generated/resolvers';

export const JournalLine: JournalLineResolvers = {
  account: async (line, _args, { loaders }) => (await loaders.accountById.load(line.accountId))!,
};
