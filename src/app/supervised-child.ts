import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';
import { healthJson, processHealth } from '../nodes/health.ts';
import { isSupervised, tetherToParent } from './parent-tether.ts';

/** What `up` asks a child over the IPC channel, and what the child answers. */
export interface ProbeRequest {
  type: 'smsc:probe';
  id: number;
}

export interface ProbeReply {
  type: 'smsc:probe';
  id: number;
  metrics: MetricObjectWithValues<MetricValue<string>>[];
  health: ReturnType<typeof healthJson>;
}

export function isProbeRequest(message: unknown): message is ProbeRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as ProbeRequest).type === 'smsc:probe' &&
    typeof (message as ProbeRequest).id === 'number'
  );
}

export function isProbeReply(message: unknown): message is ProbeReply {
  return isProbeRequest(message) && Array.isArray((message as ProbeReply).metrics) && typeof (message as ProbeReply).health === 'object';
}

/** A child that cannot start tells `up` why, in the sentence it prints (`up` repeats it in its own line). */
export interface FatalReport {
  type: 'smsc:fatal';
  message: string;
}

export function isFatalReport(message: unknown): message is FatalReport {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as FatalReport).type === 'smsc:fatal' &&
    typeof (message as FatalReport).message === 'string'
  );
}

/** Under `smsc up`: sends the reason a command failed (best effort; nothing happens elsewhere). */
export function reportFatal(message: string): void {
  if (!isSupervised() || !process.connected) return;
  try {
    const report: FatalReport = { type: 'smsc:fatal', message };
    process.send?.(report);
  } catch {
    // The channel is gone: up is too.
  }
}

/** Called by the CLI at start. Under `smsc up`: end with `up` (parent-tether.ts). Elsewhere it does nothing. */
export function joinSupervisor(): void {
  if (!isSupervised()) return;
  tetherToParent();
}

/**
 * Called by a process once it has its metrics. Under `smsc up`: answer its probes with these
 * metrics and the process's health, so `up --metrics-port` serves one `/metrics` and `/healthz`
 * for the whole set. Elsewhere it does nothing.
 */
export function answerSupervisorProbes(registry: Registry): void {
  if (!isSupervised()) return;
  process.on('message', (message: unknown) => {
    if (!isProbeRequest(message)) return;
    registry.getMetricsAsJSON().then(
      (metrics) => {
        const reply: ProbeReply = { type: 'smsc:probe', id: message.id, metrics, health: healthJson(processHealth.report()) };
        if (process.connected) process.send?.(reply);
      },
      () => {},
    );
  });
}
