import { randomBytes } from 'node:crypto';
import { ANONYMOUS, createLogger, type Clock, type Viewer } from '@loyalty-graph/shared';
import type { DataSource } from 'typeorm';
import type { RewardType } from './entities';
import type { RewardDetailsInput } from './domain/rewards';
import { CatalogService } from './services/catalogs';
import { RewardService } from './services/rewards';
import { VoucherService, voucherCipherFromEnv } from './services/vouchers';
import type { VoucherCipher } from './domain/voucher-codes';

/** Demo rewards and catalogs for `pnpm dev`: one program's, given its tiers and its default locale. */
export interface DemoCatalogProgram {
  id: string;
  /** The program's language: the rewards' default locale (English is the other translation). */
  locale: 'da' | 'pl' | 'ru';
  /** Tier ids by name (the demo ladder: Bronze, Silver, Gold). */
  tiers: Record<string, string>;
  /** The ledger charity the CHARITY reward donates to (created by `pnpm dev` through the graph). */
  charityId?: string;
}

/** The demo partner of PARTNER_SERVICE rewards, until the partners subgraph has real ones. */
export const DEMO_PARTNER_ID = '00000000-0000-4000-8000-00000000d3a0';

/** A platform operator: the seed runs before any program admin exists. */
const SEED_VIEWER: Viewer = { ...ANONYMOUS, kind: 'STAFF', programId: null, roles: ['ADMIN'], subject: 'demo-seed' };

type Names = Record<'da' | 'pl' | 'ru' | 'en', [string, string]>;

interface DemoReward {
  key: string;
  type: RewardType;
  stock: number | null;
  /** An E_VOUCHER's pool: this many generated codes (its stock). */
  codes?: number;
  names: Names;
  details: Omit<RewardDetailsInput, 'defaultLocale' | 'translations'>;
}

function demoRewards(program: DemoCatalogProgram, now: Date): DemoReward[] {
  // An experience two months ahead, at 18:00 UTC that day.
  const startsAt = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 2, 1, 18));
  return [
    {
      key: 'mug',
      type: 'PHYSICAL',
      stock: 50,
      names: { en: ['Thermal mug', 'Keeps coffee hot for six hours'], da: ['Termokrus', 'Holder kaffen varm i seks timer'], pl: ['Kubek termiczny', 'Utrzymuje ciepło przez sześć godzin'], ru: ['Термокружка', 'Держит кофе горячим шесть часов'] },
      details: { points: 300 },
    },
    {
      key: 'car-wash',
      type: 'E_VOUCHER',
      stock: 0,
      codes: 50,
      names: { en: ['Car wash voucher', 'One premium wash'], da: ['Bilvask-værdikort', 'En premium-vask'], pl: ['Bon na myjnię', 'Jedno mycie premium'], ru: ['Купон на автомойку', 'Одна премиум-мойка'] },
      details: { points: 150 },
    },
    {
      key: 'track-day',
      type: 'EXPERIENCE',
      stock: 20,
      names: { en: ['Track day', 'Drive a race car with an instructor'], da: ['Banedag', 'Kør racerbil med instruktør'], pl: ['Dzień na torze', 'Jazda bolidem z instruktorem'], ru: ['День на треке', 'Гоночный автомобиль с инструктором'] },
      details: { points: 5_000, tierIds: [program.tiers['Gold']!], experience: { startsAt, place: 'Ring Djursland', seats: 20 } },
    },
    {
      key: 'hotel-night',
      type: 'PARTNER_SERVICE',
      stock: null,
      names: { en: ['Hotel night', 'A night for two at a partner hotel'], da: ['Hotelnat', 'En nat for to på et partnerhotel'], pl: ['Noc w hotelu', 'Noc dla dwojga w hotelu partnera'], ru: ['Ночь в отеле', 'Ночь для двоих в отеле-партнёре'] },
      details: { points: 2_500, cash: { amount: '19.00', currency: 'EUR' }, partnerId: DEMO_PARTNER_ID, perMemberLimit: { count: 2, days: 365 } },
    },
    {
      key: 'tree',
      type: 'CHARITY',
      stock: null,
      names: { en: ['Plant a tree', 'Your points plant a tree'], da: ['Plant et træ', 'Dine point planter et træ'], pl: ['Posadź drzewo', 'Twoje punkty sadzą drzewo'], ru: ['Посадить дерево', 'Ваши баллы сажают дерево'] },
      details: { points: 100, ...(program.charityId ? { charityId: program.charityId } : {}) },
    },
  ];
}

/**
 * Seeds a program's demo rewards (one of every type, the E_VOUCHER with a pool of 50 codes) and two catalogs (everyone; Gold members),
 * through the catalog's own services, as an operator. Idempotent: a program that already has the
 * demo catalog filled is left as it is, and every creation carries a fixed idempotency key, so a start
 * interrupted half way finishes on the next without duplicates.
 */
export async function seedDemoCatalog(
  db: DataSource,
  clock: Clock,
  program: DemoCatalogProgram,
  // The subgraph's key: `pnpm dev` passes the one it keeps; in one process (tests) the env's is the subgraph's too.
  codeCipher: VoucherCipher = voucherCipherFromEnv(process.env, createLogger('catalog-seed')),
): Promise<{ rewards: number; seeded: boolean }> {
  const [done] = (await db.query(`SELECT 1 FROM catalogs c JOIN catalog_rewards cr ON cr.catalog_id = c.id WHERE c.program_id = $1 AND c.name = 'All members' LIMIT 1`, [program.id])) as unknown[];
  const rewardCount = async () => ((await db.query(`SELECT count(*)::int AS n FROM rewards WHERE program_id = $1`, [program.id])) as { n: number }[])[0]!.n;
  if (done) return { rewards: await rewardCount(), seeded: false };
  const rewards = new RewardService(db, clock);
  const catalogs = new CatalogService(db, clock);
  const vouchers = new VoucherService(db, clock, codeCipher);
  const ids: Record<string, string> = {};
  for (const reward of demoRewards(program, clock.now())) {
    const translations = [program.locale, 'en' as const].map((locale) => ({ locale, name: reward.names[locale][0], description: reward.names[locale][1] }));
    const created = await rewards.create(SEED_VIEWER, {
      idempotencyKey: `demo-seed-reward-${reward.key}`,
      programId: program.id,
      type: reward.type,
      stock: reward.stock,
      details: { defaultLocale: program.locale, translations, ...reward.details },
    });
    ids[reward.key] = created.rewardId;
    // Random codes, so a pool is imported only while it is empty: the import and its (fixed) key
    // commit together, so a pool with codes is a finished import and a second run adds none.
    const [filled] = (await db.query(`SELECT 1 FROM voucher_codes WHERE reward_id = $1 LIMIT 1`, [created.rewardId])) as unknown[];
    if (reward.codes && !filled) {
      const codes = Array.from({ length: reward.codes }, () => `DEMO-${randomBytes(6).toString('hex').toUpperCase()}`);
      await vouchers.importCodes(SEED_VIEWER, { idempotencyKey: `demo-seed-codes-${reward.key}`, rewardId: created.rewardId, codes });
    }
  }
  const gold = await catalogs.create(SEED_VIEWER, { idempotencyKey: 'demo-seed-catalog-gold', programId: program.id, name: 'Gold club', tierIds: [program.tiers['Gold']!] });
  await catalogs.setRewards(SEED_VIEWER, { catalogId: gold.catalogId, rewardIds: [ids['track-day']!, ids['hotel-night']!] });
  // Filled last: its rewards say the seed finished. The Gold-only track day is here too, so every
  // member sees a TIER reason.
  const everyone = await catalogs.create(SEED_VIEWER, { idempotencyKey: 'demo-seed-catalog-all', programId: program.id, name: 'All members' });
  await catalogs.setRewards(SEED_VIEWER, { catalogId: everyone.catalogId, rewardIds: [ids['mug']!, ids['car-wash']!, ids['hotel-night']!, ids['track-day']!, ids['tree']!] });
  return { rewards: await rewardCount(), seeded: true };
}
