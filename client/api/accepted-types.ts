import type { UploadSettings } from '../../contract/api.ts';

const FAMILIES: Record<string, string> = {
  'image/*': 'images',
  'video/*': 'videos',
  'audio/*': 'audio',
  'text/*': 'text files',
  'font/*': 'fonts',
  'application/*': 'application files',
};

const named = (patterns: string[]) => patterns.map((pattern) => FAMILIES[pattern] ?? pattern).join(', ');

/** "Accepted: images, application/pdf." and/or "Not accepted: …"; empty when every type is. */
export function acceptedTypesText(settings: Pick<UploadSettings, 'allowedTypes' | 'deniedTypes'>): string {
  const sentences: string[] = [];
  if (!settings.allowedTypes.includes('*/*')) sentences.push(`Accepted: ${named(settings.allowedTypes)}.`);
  if (settings.deniedTypes.length) sentences.push(`Not accepted: ${named(settings.deniedTypes)}.`);
  return sentences.join(' ');
}

/** The file picker's `accept`: the allowed types, when not all are (denied ones cannot be said there). */
export const acceptAttribute = (settings: Pick<UploadSettings, 'allowedTypes'>) =>
  settings.allowedTypes.includes('*/*') ? undefined : settings.allowedTypes.join(',');
