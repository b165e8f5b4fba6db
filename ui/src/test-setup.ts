// Unmounts components between tests (Vitest globals are off, so
// testing-library cannot register this itself).
import { cleanup } from '@testing-library/svelte';
import { afterEach } from 'vitest';

afterEach(() => cleanup());
