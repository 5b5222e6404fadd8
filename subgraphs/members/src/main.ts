import { exitOnError } from '@loyalty-graph/shared';
import { runSubgraph } from '@loyalty-graph/shared/subgraph';
import { membersSubgraph } from './server';

runSubgraph(membersSubgraph).catch(exitOnError);
