/**
 * Prints the S3 lifecycle rules Postbox's retention settings (FILE_RETENTION_DAYS,
 * ABORT_INCOMPLETE_UPLOADS_DAYS) make, for operators who manage their bucket themselves:
 *   FILE_RETENTION_DAYS=30 npx tsx server/cli/lifecycle.ts > lifecycle.json
 *   aws s3api put-bucket-lifecycle-configuration --bucket my-postbox --lifecycle-configuration file://lifecycle.json
 * A put replaces the bucket's whole lifecycle configuration: merge in rules of your own first.
 */
import { ConfigError, loadConfig } from '../config/config.ts';
import { lifecycleJson } from '../retention/lifecycle.ts';

try {
  const { retention } = loadConfig(process.env);
  console.log(lifecycleJson({ fileDays: retention.fileDays, abortIncompleteUploadsDays: retention.abortIncompleteUploadsDays }));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  process.exit(2);
}
