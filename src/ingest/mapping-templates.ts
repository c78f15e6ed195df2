/**
 * API Gateway's mapping templates for `POST /events` (Velocity, API Gateway's `$input` / `$util`):
 * the request body, byte for byte, becomes ONE Firehose record (Firehose's
 * AppendDelimiterToRecord adds the newline), and the answers carry CORS for the allowed origins.
 */

/** The integration request: Firehose PutRecord with the body base64-encoded as the record. */
export function putRecordTemplate(deliveryStreamName: string): string {
  return `{"DeliveryStreamName": ${JSON.stringify(deliveryStreamName)}, "Record": {"Data": "$util.base64Encode($input.body)"}}`;
}

/**
 * The 200 answer. API Gateway's response template cannot see the request body, so the deployed
 * answer says the record was accepted and names it, where `clicklake serve` also counts the events.
 * A browser origin in `allowedOrigins` is echoed back (CORS for several origins needs it).
 */
export function acceptedTemplate(allowedOrigins: string[]): string {
  const lines: string[] = [];
  const named = allowedOrigins.filter((o) => o !== '*');
  if (named.length > 0 && !allowedOrigins.includes('*')) {
    lines.push(`#set($origin = $input.params().header.get('Origin'))`);
    lines.push(`#if(${named.map((o) => `$origin == ${JSON.stringify(o)}`).join(' || ')})`);
    lines.push(`#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)`);
    lines.push('#end');
  }
  lines.push(`{"accepted": true, "recordId": "$input.path('$.RecordId')"}`);
  return lines.join('\n');
}
