import { selectList } from '@loyalty-graph/shared/db';

/** A row of `webhook_endpoints` with its partner's program, never its secrets. */
export interface WebhookEndpointRow {
  id: string;
  partnerId: string;
  programId: string;
  url: string;
  description: string | null;
  eventTypes: string[];
  enabled: boolean;
  disabledAt: Date | null;
  disabledReason: string | null;
  failingSince: Date | null;
  previousSecretExpiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Needs `webhook_endpoints e JOIN partners p ON p.id = e.partner_id`. */
export const webhookEndpointColumns = selectList<WebhookEndpointRow>({
  id: 'e.id',
  partnerId: 'e.partner_id',
  programId: 'p.program_id',
  url: 'e.url',
  description: 'e.description',
  eventTypes: 'e.event_types',
  enabled: 'e.enabled',
  disabledAt: 'e.disabled_at',
  disabledReason: 'e.disabled_reason',
  failingSince: 'e.failing_since',
  previousSecretExpiresAt: 'e.previous_secret_expires_at',
  createdAt: 'e.created_at',
  updatedAt: 'e.updated_at',
});

export type WebhookMessageStatus = 'PENDING' | 'DELIVERED' | 'FAILED';

/** A row of `webhook_messages`. */
export interface WebhookMessageRow {
  id: string;
  /** msg_…: the webhook-id header. */
  webhookId: string;
  endpointId: string;
  eventType: string;
  body: string;
  status: WebhookMessageStatus;
  tries: number;
  nextAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export const webhookMessageColumns = selectList<WebhookMessageRow>({
  id: 'm.id',
  webhookId: 'm.webhook_id',
  endpointId: 'm.endpoint_id',
  eventType: 'm.event_type',
  body: 'm.body',
  status: 'm.status',
  tries: 'm.tries',
  nextAttemptAt: `CASE WHEN m.status = 'PENDING' THEN m.next_attempt_at END`,
  lastAttemptAt: 'm.last_attempt_at',
  deliveredAt: 'm.delivered_at',
  createdAt: 'm.created_at',
});

/** A row of `webhook_attempts`. */
export interface WebhookAttemptRow {
  id: string;
  messageId: string;
  attemptedAt: Date;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
  succeeded: boolean;
}

export const webhookAttemptColumns = selectList<WebhookAttemptRow>({
  id: 'a.id',
  messageId: 'a.message_id',
  attemptedAt: 'a.attempted_at',
  statusCode: 'a.status_code',
  durationMs: 'a.duration_ms',
  error: 'a.error',
  responseSnippet: 'a.response_snippet',
  succeeded: 'a.succeeded',
});
