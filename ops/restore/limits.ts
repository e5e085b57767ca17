/** The validation function's time limit: Lambda's maximum, 15 minutes (AWS Lambda quotas). */
export const VALIDATION_TIMEOUT_SECONDS = 900;
