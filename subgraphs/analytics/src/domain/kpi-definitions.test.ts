import { InputError } from '@loyalty-graph/shared';
import { describe, expect, it } from 'vitest';
import { checkSettingsChange, DEFAULT_SETTINGS, KPI_NAMES, kpiDefinition, settingsAt, WINDOWED_KPIS } from './kpi-definitions';

const at = (iso: string) => new Date(iso);
const now = at('2026-11-30T12:00:00Z');

describe('settingsAt', () => {
  const v2 = { version: 2, activeWindowDays: 30, effectiveFrom: at('2026-12-01T00:00:00Z') };
  const v3 = { version: 3, activeWindowDays: 60, effectiveFrom: at('2027-01-01T00:00:00Z') };

  it('is the default (version 1, 90 days) before any change takes effect', () => {
    expect(settingsAt([], now)).toEqual(DEFAULT_SETTINGS);
    expect(settingsAt([DEFAULT_SETTINGS, v2, v3], at('2026-11-30T23:59:59.999Z'))).toEqual({ version: 1, activeWindowDays: 90, effectiveFrom: null });
  });

  it('is the newest version effective at or before the instant', () => {
    expect(settingsAt([v2, v3], at('2026-12-01T00:00:00Z'))).toBe(v2);
    expect(settingsAt([v2, v3], at('2027-06-01T00:00:00Z'))).toBe(v3);
  });

  it('lets a later change supersede an earlier one that starts after it', () => {
    const v4 = { version: 4, activeWindowDays: 7, effectiveFrom: at('2026-12-15T00:00:00Z') };
    expect(settingsAt([v2, v3, v4], at('2027-06-01T00:00:00Z'))).toBe(v4);
    expect(settingsAt([v2, v3, v4], at('2026-12-10T00:00:00Z'))).toBe(v2);
  });
});

describe('checkSettingsChange', () => {
  it('defaults the window to 90 days and accepts 1 to 730 from now on', () => {
    expect(checkSettingsChange({ effectiveFrom: now }, now)).toEqual({ activeWindowDays: 90, effectiveFrom: now });
    expect(checkSettingsChange({ activeWindowDays: 1, effectiveFrom: now }, now).activeWindowDays).toBe(1);
    expect(checkSettingsChange({ activeWindowDays: 730, effectiveFrom: at('2030-01-01T00:00:00Z') }, now).activeWindowDays).toBe(730);
  });

  it('refuses a window out of range or fractional, and a start in the past', () => {
    for (const activeWindowDays of [0, 731, 1.5, -3]) {
      expect(() => checkSettingsChange({ activeWindowDays, effectiveFrom: now }, now)).toThrow(InputError);
    }
    expect(() => checkSettingsChange({ activeWindowDays: 30, effectiveFrom: at('2026-11-30T11:59:59.999Z') }, now)).toThrow(/past/);
    expect(() => checkSettingsChange({ activeWindowDays: 30, effectiveFrom: new Date(Number.NaN) }, now)).toThrow(InputError);
  });
});

describe('kpiDefinition', () => {
  it('defines every KPI, writing the version’s window into those that use it', () => {
    const v2 = { version: 2, activeWindowDays: 30, effectiveFrom: now };
    for (const kpi of KPI_NAMES) {
      const text = kpiDefinition(kpi, v2);
      expect(text.length).toBeGreaterThan(20);
      expect(text.includes('30 days'), kpi).toBe(WINDOWED_KPIS.has(kpi));
      expect(kpiDefinition(kpi, DEFAULT_SETTINGS).includes('90 days'), kpi).toBe(WINDOWED_KPIS.has(kpi));
    }
  });
});
