// The one error banner's state: any command failure lands here, and the
// App shows it in `error-banner` until dismissed or replaced.
import { toCommandError, type CommandError } from '../api';

export const errors = $state<{ current: CommandError | null }>({ current: null });

/** Shows a failed command's message; returns the normalised error. */
export function showError(error: unknown): CommandError {
  const e = toCommandError(error);
  errors.current = e;
  return e;
}

export function clearError(): void {
  errors.current = null;
}
