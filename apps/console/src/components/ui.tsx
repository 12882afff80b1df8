import { type ReactNode, useEffect, useId, useRef } from 'react';
import { ApiError } from '../api/client';

/** Cluster health labels, each with a symbol and words: state is never told by colour alone. */
export const HEALTH: Record<string, { text: string; mark: string; tone: Tone }> = {
  ok: { text: 'OK', mark: '✓', tone: 'ok' },
  degraded: { text: 'Degraded', mark: '▲', tone: 'warn' },
  'failing-over': { text: 'Failing over', mark: '⟳', tone: 'info' },
  'master-down': { text: 'Master down', mark: '✕', tone: 'bad' },
  'cannot-decide': { text: 'Cannot decide', mark: '?', tone: 'bad' },
  maintenance: { text: 'Maintenance', mark: '⏸', tone: 'muted' },
  'master-unreachable': { text: 'Master unreachable from some zones', mark: '◐', tone: 'warn' },
};

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';

export function Badge({ tone, mark, children, title }: { tone: Tone; mark?: string; children: ReactNode; title?: string }) {
  return (
    <span className={`badge tone-${tone}`} title={title}>
      {mark && <span aria-hidden="true">{mark} </span>}
      {children}
    </span>
  );
}

export function HealthBadge({ health }: { health: string }) {
  const h = HEALTH[health] ?? { text: health, mark: '•', tone: 'muted' as Tone };
  return (
    <Badge tone={h.tone} mark={h.mark}>
      {h.text}
    </Badge>
  );
}

/** A modal dialog (the native element: Esc closes it, focus is trapped, then returns where it was). */
export function Dialog({ open, title, onClose, children }: { open: boolean; title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const opener = useRef<Element | null>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      onClose={() => {
        onClose();
        if (opener.current instanceof HTMLElement) opener.current.focus();
      }}
    >
      <div className="dialog-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" className="plain" aria-label="Close" onClick={() => ref.current?.close()}>
          ✕
        </button>
      </div>
      {open && children}
    </dialog>
  );
}

/** The API's refusal in its own words, announced to screen readers. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  const text = error instanceof ApiError ? error.plain : error instanceof Error ? error.message : String(error);
  return (
    <p className="error-note" role="alert">
      <span aria-hidden="true">✕ </span>
      {text}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** A wide table that scrolls inside its own box on a narrow screen, reachable by keyboard. */
export function TableBox({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-box" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      <div className="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

const ZONE_MARKS = ['◆', '●', '■', '▲', '★', '⬟', '⬢', '✚'];

/** Zones get a symbol as well as a colour, and the legend names them. */
export function zoneMark(zone: string | null | undefined, zones: string[]): { mark: string; index: number } {
  const index = zone ? zones.indexOf(zone) : -1;
  return { mark: index < 0 ? '○' : ZONE_MARKS[index % ZONE_MARKS.length]!, index };
}

export function ZoneTag({ zone, zones }: { zone: string | null | undefined; zones: string[] }) {
  const { mark, index } = zoneMark(zone, zones);
  return (
    <span className={`zone zone-${index < 0 ? 'none' : index % ZONE_MARKS.length}`}>
      <span aria-hidden="true">{mark} </span>
      {zone ?? 'no zone'}
    </span>
  );
}

export function ZoneLegend({ zones }: { zones: string[] }) {
  if (zones.length === 0) return null;
  return (
    <p className="legend">
      <span className="muted">Zones: </span>
      {zones.map((zone) => (
        <ZoneTag key={zone} zone={zone} zones={zones} />
      ))}
    </p>
  );
}
