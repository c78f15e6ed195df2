/** AWS Lambda's quotas that clicklake's settings and sizing depend on (Lambda developer guide, "Lambda quotas"). */
export const LAMBDA_LIMITS = {
  memoryMb: { min: 128, max: 10_240 },
  ephemeralStorageMb: { min: 512, max: 10_240 },
  timeoutSeconds: { max: 900 },
} as const;
