import { Show, type JSX } from 'solid-js';

/** An error in words, with what to do about it when there is something. */
export function ErrorNotice(props: { message: string | null | undefined; action?: JSX.Element }) {
  return (
    <Show when={props.message}>
      <div class="notice notice-error" role="alert">
        <span class="notice-dot" />
        <span class="notice-text">{props.message}</span>
        {props.action}
      </div>
    </Show>
  );
}

export function InfoNotice(props: { children: JSX.Element; action?: JSX.Element; tone?: 'info' | 'warn' | 'ok' }) {
  return (
    <div class={`notice notice-${props.tone ?? 'info'}`} role="status">
      <span class="notice-dot" />
      <span class="notice-text">{props.children}</span>
      {props.action}
    </div>
  );
}

/** What a view shows before there is anything to show, and what to do about it. */
export function EmptyState(props: { title: string; children: JSX.Element; actions?: JSX.Element }) {
  return (
    <div class="empty-state">
      <div class="empty-art" aria-hidden="true">
        <span />
        <span />
        <span />
        <span />
        <span />
        <span />
      </div>
      <h2>{props.title}</h2>
      <div class="empty-body">{props.children}</div>
      <Show when={props.actions}>
        <div class="empty-actions">{props.actions}</div>
      </Show>
    </div>
  );
}
