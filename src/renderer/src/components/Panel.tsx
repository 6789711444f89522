import { Show, type JSX } from 'solid-js';

/** Width on the dashboard's 12-column grid. */
export type Span = 4 | 6 | 12;

/** A titled panel of the dashboard grid, with an optional hint saying what its numbers cover. */
export function Panel(props: { title: string; hint?: string; span: Span; children: JSX.Element; testId?: string }) {
  return (
    <section class={`panel span-${props.span}`} data-testid={props.testId}>
      <header class="panel-head">
        <h2>{props.title}</h2>
        <Show when={props.hint}>
          <span class="panel-hint">{props.hint}</span>
        </Show>
      </header>
      <div class="panel-body">{props.children}</div>
    </section>
  );
}
