/** Every query key comes from here, so invalidations cannot drift from the queries they target. */
export const queryKeys = {
  settings: () => ['settings'] as const,
  session: () => ['session'] as const,
  health: () => ['health'] as const,
  files: {
    all: () => ['files'] as const,
    list: () => ['files', 'list'] as const,
  },
  shares: {
    all: () => ['shares'] as const,
    forFile: (key: string) => ['shares', 'file', key] as const,
  },
};
