import { NonRetryableError } from "../shared/index.ts";

/**
 * Marks a failure so that no retry policy retries it.
 * @example throw nonRetryable(new Error("invalid input"));
 * @example throw nonRetryable("card declined");
 */
export function nonRetryable(errorOrMessage: unknown): NonRetryableError {
  if (typeof errorOrMessage === "string") return new NonRetryableError(errorOrMessage);
  if (errorOrMessage instanceof Error) {
    const code = (errorOrMessage as { code?: unknown }).code;
    const wrapped = new NonRetryableError(errorOrMessage.message, {
      cause: errorOrMessage,
      ...(typeof code === "string" ? { code } : {}),
    });
    // Keep the original name visible in history: "NonRetryableError" says less than "CardDeclined".
    if (errorOrMessage.name && errorOrMessage.name !== "Error") wrapped.name = errorOrMessage.name;
    return wrapped;
  }
  return new NonRetryableError(String(errorOrMessage));
}
