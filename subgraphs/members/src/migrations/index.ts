import { InitialSchema1763800000000 } from './1763800000000-initial-schema';
import { TiersReferralsEvents1764200000000 } from './1764200000000-tiers-referrals-events';
import { IdentifierVerification1764600000000 } from './1764600000000-identifier-verification';
import { MemberGroupsAnnounced1796700000001 } from './1796700000001-member-groups-announced';
import { PartnerMarketingConsent1796820000000 } from './1796820000000-partner-marketing-consent';
import { ConsentsAnnounced1796820000001 } from './1796820000001-consents-announced';
import { ProfilesAnnounced1797010000001 } from './1797010000001-profiles-announced';

/**
 * Listed explicitly so bundling and tests never depend on directory scanning. The subgraph kit adds
 * the platform's (jobs, outbox, consumers) and TypeORM runs them all in timestamp order.
 */
export const migrations = [InitialSchema1763800000000, TiersReferralsEvents1764200000000, IdentifierVerification1764600000000, MemberGroupsAnnounced1796700000001, PartnerMarketingConsent1796820000000, ConsentsAnnounced1796820000001, ProfilesAnnounced1797010000001];
