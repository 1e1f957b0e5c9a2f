/** The patch id the chaos run's upgraded build records in the tiles it starts (see upgraded-workflows.ts). */
export const UPGRADE_PATCH = 'chaos-upgrade-first-step';
