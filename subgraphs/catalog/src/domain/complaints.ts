import { DomainError } from '@loyalty-graph/shared';

export const COMPLAINT_STATUSES = ['OPEN', 'IN_PROGRESS', 'WAITING_FOR_MEMBER', 'RESOLVED', 'REJECTED'] as const;
export type ComplaintStatus = (typeof COMPLAINT_STATUSES)[number];
export const COMPLAINT_REASONS = ['MISSING', 'DAMAGED', 'WRONG_ITEM', 'LATE', 'OTHER'] as const;
export type ComplaintReason = (typeof COMPLAINT_REASONS)[number];
/** How an agent settles a complaint in the member's favour; a rejection is its own mutation. */
export type ComplaintRemedy = 'REPLACEMENT' | 'POINTS_REFUND';
export type ComplaintResolution = ComplaintRemedy | 'REJECTION';

/**
 * Where each state may go. RESOLVED and REJECTED are final: a member unhappy with either opens a
 * new complaint, so a closed one's history never changes its meaning.
 */
export const COMPLAINT_TRANSITIONS: Readonly<Record<ComplaintStatus, readonly ComplaintStatus[]>> = {
  OPEN: ['IN_PROGRESS', 'WAITING_FOR_MEMBER', 'RESOLVED', 'REJECTED'],
  IN_PROGRESS: ['WAITING_FOR_MEMBER', 'RESOLVED', 'REJECTED'],
  // Back to IN_PROGRESS when the member replied, or when the agent resumes without a reply.
  WAITING_FOR_MEMBER: ['IN_PROGRESS', 'RESOLVED', 'REJECTED'],
  RESOLVED: [],
  REJECTED: [],
};

export function isFinal(status: ComplaintStatus): boolean {
  return COMPLAINT_TRANSITIONS[status].length === 0;
}

export function canMoveComplaint(from: ComplaintStatus, to: ComplaintStatus): boolean {
  return COMPLAINT_TRANSITIONS[from].includes(to);
}

/** The deadline's state: when it is due, and since when its clock is stopped (null: running). */
export interface ComplaintClock {
  status: ComplaintStatus;
  dueAt: Date;
  pausedAt: Date | null;
}

/** A new complaint is due `deadlineDays` whole days after it was opened. */
export function firstDueAt(openedAt: Date, deadlineDays: number): Date {
  return new Date(openedAt.getTime() + deadlineDays * 86_400_000);
}

/**
 * Moves a complaint and its deadline: entering WAITING_FOR_MEMBER stops the clock; leaving it
 * (to any state) moves the deadline forward by the time spent waiting, so the member's silence
 * never counts against the agents. A closed complaint refuses with COMPLAINT_CLOSED, any other
 * move not in the table with INVALID_COMPLAINT_TRANSITION.
 */
export function moveComplaint(current: ComplaintClock, to: ComplaintStatus, now: Date): ComplaintClock {
  if (isFinal(current.status)) throw new DomainError('COMPLAINT_CLOSED', `The complaint is already ${current.status}`, 'complaintId');
  if (!canMoveComplaint(current.status, to)) throw new DomainError('INVALID_COMPLAINT_TRANSITION', `A complaint that is ${current.status} cannot become ${to}`, 'complaintId');
  let dueAt = current.dueAt;
  let pausedAt: Date | null = current.pausedAt;
  if (current.status === 'WAITING_FOR_MEMBER' && pausedAt !== null) {
    // A clock that went backwards (it does not in production) never shortens the deadline.
    dueAt = new Date(dueAt.getTime() + Math.max(0, now.getTime() - pausedAt.getTime()));
    pausedAt = null;
  }
  if (to === 'WAITING_FOR_MEMBER') pausedAt = now;
  return { status: to, dueAt, pausedAt };
}

/** Overdue: still open, its (running) deadline reached. A complaint waiting for the member never is. */
export function isOverdue(complaint: ComplaintClock, now: Date): boolean {
  return !isFinal(complaint.status) && complaint.pausedAt === null && complaint.dueAt.getTime() <= now.getTime();
}
