/**
 * The notifier port: alerts to people (Telegram, a JSON webhook, …). A failing notifier never
 * blocks trading: `notify` must not throw and should return quickly.
 */
export interface Alert {
  severity: 'info' | 'warning' | 'critical';
  /** Stable machine-readable code, e.g. `KILL_SWITCH_TRIPPED`. */
  code: string;
  text: string;
  data?: Record<string, unknown>;
}

export interface NotifierPort {
  notify(alert: Alert): Promise<void>;
}
