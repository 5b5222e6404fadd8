import { ConsentEntity } from './consent';
import { ConsentChangeEntity } from './consent-change';
import { MemberEntity } from './member';
import { GroupMembershipEntity, MemberGroupEntity } from './member-group';
import { IdentifierVerificationEntity } from './identifier-verification';
import { MemberIdentifierEntity } from './member-identifier';
import { MemberStatusChangeEntity } from './member-status-change';
import { ProgramEntity } from './program';
import { TierEntity } from './tier';
import { TierChangeEntity } from './tier-change';

/** Listed explicitly: no directory scanning, so what the subgraph persists is visible here. */
export const entities = [
  ProgramEntity,
  TierEntity,
  MemberEntity,
  MemberIdentifierEntity,
  IdentifierVerificationEntity,
  MemberStatusChangeEntity,
  TierChangeEntity,
  ConsentEntity,
  ConsentChangeEntity,
  MemberGroupEntity,
  GroupMembershipEntity,
];
