// Small shared pieces of UI.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";

/** An error line (the broker's code and message). */
export function ErrorLine({ error }: { error: Error | undefined }) {
  if (error === undefined) return null;
  const code = (error as { code?: string }).code;
  return (
    <p class="error" role="alert" data-testid="error">
      {code === undefined ? "" : `${code}: `}
      {error.message}
    </p>
  );
}

/** A form whose submit runs an async action, showing "…" while it runs and its error after. */
export function ActionForm(props: {
  onSubmit: () => Promise<string | void>;
  children: ComponentChildren;
  testid: string;
  label: string;
  disabled?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const message = await props.onSubmit();
      setDone(message ?? undefined);
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="action" data-testid={props.testid} onSubmit={submit}>
      {props.children}
      <button type="submit" disabled={busy || props.disabled === true}>
        {busy ? "…" : props.label}
      </button>
      {done === undefined ? null : (
        <span class="ok" data-testid={`${props.testid}-done`}>
          {done}
        </span>
      )}
      <ErrorLine error={error} />
    </form>
  );
}

/** "Loading…" until there is data. */
export function Loading() {
  return <p class="muted">Loading…</p>;
}
