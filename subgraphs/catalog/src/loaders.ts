import { groupedBy, rowsById } from '@loyalty-graph/shared/db';
import DataLoader from 'dataloader';
import type { DataSource } from 'typeorm';
import {
  catalogColumns,
  complaintChangeColumns,
  complaintColumns,
  type ComplaintChangeRow,
  type ComplaintRow,
  rewardColumns,
  rewardOrderChangeColumns,
  rewardOrderColumns,
  rewardOrderLineColumns,
  rewardVersionColumns,
  shipmentColumns,
  type CatalogRow,
  type RewardOrderChangeRow,
  type RewardOrderLineRow,
  type RewardOrderRow,
  type RewardRow,
  type RewardVersionRow,
  type ShipmentRow,
} from './entities';
import { voucherPoolCounts, type VoucherPoolCounts } from './services/vouchers';

/**
 * Built per request (never shared between users: a loader's cache is per viewer). One SQL
 * statement per batch, values in key order, null for misses (malformed ids included).
 */
export function createLoaders(db: DataSource) {
  return {
    rewardById: rowsById<RewardRow>(db, `SELECT ${rewardColumns} FROM rewards r WHERE r.id = ANY($1::uuid[])`),
    catalogById: rowsById<CatalogRow>(db, `SELECT ${catalogColumns} FROM catalogs c WHERE c.id = ANY($1::uuid[])`),
    catalogsByProgram: groupedBy<CatalogRow>(
      (ids) => db.query(`SELECT ${catalogColumns} FROM catalogs c WHERE c.program_id = ANY($1::uuid[]) ORDER BY c.seq`, [ids]),
      (row) => row.programId,
    ),
    rewardsByCatalog: groupedBy<RewardRow & { catalogId: string }>(
      (ids) => db.query(`SELECT cr.catalog_id AS "catalogId", ${rewardColumns} FROM catalog_rewards cr JOIN rewards r ON r.id = cr.reward_id WHERE cr.catalog_id = ANY($1::uuid[]) ORDER BY cr.position`, [ids]),
      (row) => row.catalogId,
    ),
    versionsByReward: groupedBy<RewardVersionRow>(
      (ids) => db.query(`SELECT ${rewardVersionColumns} FROM reward_versions v WHERE v.reward_id = ANY($1::uuid[]) ORDER BY v.version DESC`, [ids]),
      (row) => row.rewardId,
    ),
    orderById: rowsById<RewardOrderRow>(db, `SELECT ${rewardOrderColumns} FROM reward_orders o WHERE o.id = ANY($1::uuid[])`),
    linesByOrder: groupedBy<RewardOrderLineRow>(
      (ids) => db.query(`SELECT ${rewardOrderLineColumns} FROM reward_order_lines l JOIN reward_orders o ON o.id = l.order_id WHERE l.order_id = ANY($1::uuid[]) ORDER BY l.line_no`, [ids]),
      (row) => row.orderId,
    ),
    changesByOrder: groupedBy<RewardOrderChangeRow>(
      (ids) => db.query(`SELECT ${rewardOrderChangeColumns} FROM reward_order_changes c WHERE c.order_id = ANY($1::uuid[]) ORDER BY c.seq`, [ids]),
      (row) => row.orderId,
    ),
    shipmentByOrder: rowsById<ShipmentRow & { id: string }>(db, `SELECT ${shipmentColumns}, s.order_id AS id FROM shipments s WHERE s.order_id = ANY($1::uuid[])`),
    complaintById: rowsById<ComplaintRow>(db, `SELECT ${complaintColumns} FROM complaints c WHERE c.id = ANY($1::uuid[])`),
    complaintsByOrder: groupedBy<ComplaintRow>(
      (ids) => db.query(`SELECT ${complaintColumns} FROM complaints c WHERE c.order_id = ANY($1::uuid[]) ORDER BY c.seq`, [ids]),
      (row) => row.orderId,
    ),
    changesByComplaint: groupedBy<ComplaintChangeRow>(
      (ids) => db.query(`SELECT ${complaintChangeColumns} FROM complaint_changes h WHERE h.complaint_id = ANY($1::uuid[]) ORDER BY h.seq`, [ids]),
      (row) => row.complaintId,
    ),
    voucherPoolByReward: new DataLoader<string, VoucherPoolCounts>((ids) => voucherPoolCounts(db, ids)),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
