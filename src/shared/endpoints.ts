/**
 * The four measured diffusion routes and the event types they are stored under.
 * The `endpoint` label used in exports is the route below `/api/diffusion/`.
 */
export const ENDPOINTS = ['generate', 'infill', 'generate/stream', 'infill/stream'] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

export const EVENT_TYPES = ['diffusion_generate', 'diffusion_infill', 'diffusion_generate_stream', 'diffusion_infill_stream'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const EVENT_TYPE_BY_ENDPOINT: Record<Endpoint, EventType> = {
  generate: 'diffusion_generate',
  infill: 'diffusion_infill',
  'generate/stream': 'diffusion_generate_stream',
  'infill/stream': 'diffusion_infill_stream',
};

const ENDPOINT_BY_EVENT_TYPE = Object.fromEntries(ENDPOINTS.map((endpoint) => [EVENT_TYPE_BY_ENDPOINT[endpoint], endpoint])) as Record<EventType, Endpoint>;

export function eventTypeOf(endpoint: Endpoint): EventType {
  return EVENT_TYPE_BY_ENDPOINT[endpoint];
}

/** Endpoint for a stored event type; `undefined` for rows written by other programs with other types. */
export function endpointOf(eventType: string): Endpoint | undefined {
  return (ENDPOINT_BY_EVENT_TYPE as Record<string, Endpoint | undefined>)[eventType];
}

export function isStreamEndpoint(endpoint: Endpoint): boolean {
  return endpoint.endsWith('/stream');
}
