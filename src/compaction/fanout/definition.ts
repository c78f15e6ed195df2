/**
 * The backfill state machine (Amazon States Language): a Distributed Map over lists of hours, each
 * item exactly the compaction handler's backfill event `{ "hours": [...], "force": bool }`, at most
 * `maxConcurrency` Lambda invocations at once. Each branch answers small (what it wrote, what it
 * deferred) or, when the function failed, the hours it held and the error name: for up to a year
 * of hours (MAX_HOURS_PER_EXECUTION) input and output stay below Step Functions' 256 KiB limit. Throttling and Lambda's own
 * transient errors are retried; a failure of the compaction itself is not (rerunning the backfill
 * redoes only the hours without an up-to-date manifest).
 *
 * The same JSON is deployed (src/deploy/backfill.ts, `${CompactFunctionArn}` substituted) and run
 * locally by the tests.
 */

/** Where the deployed definition names the backfill function (a definitionSubstitutions key). */
export const FUNCTION_ARN_SUBSTITUTION = 'CompactFunctionArn';

export interface BackfillDefinitionOptions {
  maxConcurrency: number;
  /** The function's ARN, or the `${CompactFunctionArn}` placeholder (the default). */
  functionArn?: string;
}

export function backfillDefinition(options: BackfillDefinitionOptions): Record<string, unknown> {
  const functionArn = options.functionArn ?? `\${${FUNCTION_ARN_SUBSTITUTION}}`;
  return {
    Comment: 'clicklake backfill: compact lists of arrival hours in parallel (clicklake compact --fan-out)',
    StartAt: 'CompactHours',
    States: {
      CompactHours: {
        Type: 'Map',
        ItemsPath: '$.items',
        MaxConcurrency: options.maxConcurrency,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Compact',
          States: {
            Compact: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: functionArn, 'Payload.$': '$' },
              ResultSelector: { 'written.$': '$.Payload.totals.written', 'units.$': 'States.ArrayLength($.Payload.units)', 'deferred.$': '$.Payload.deferred' },
              Retry: [
                {
                  ErrorEquals: ['Lambda.TooManyRequestsException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException'],
                  IntervalSeconds: 2,
                  BackoffRate: 2,
                  MaxAttempts: 6,
                  JitterStrategy: 'FULL',
                },
              ],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
              End: true,
            },
            Failed: {
              Type: 'Pass',
              // Not the Cause (a stack trace): a whole failed year must still fit the output limit.
              // The handler logged the message in the function's log group.
              Parameters: { 'failed.$': '$.hours', 'error.$': '$.error.Error' },
              End: true,
            },
          },
        },
        End: true,
      },
    },
  };
}
