/**
 * gRPC Internet handlers: validate a proxy secondary's usage report, hand it to the internet
 * charging service, answer what was charged and who ran out (idempotent on report_id).
 */
import type { Logger } from '../../common/logger';
import type { InternetHandlers } from '../../protos/generated/quotient/v1/Internet';
import type { UsageReport__Output } from '../../protos/generated/quotient/v1/UsageReport';
import type { UsageReportResult } from '../../protos/generated/quotient/v1/UsageReportResult';
import type { InternetChargingService } from '../internet/internet-charging';
import { secondaryOf, unary } from './status';

export function internetHandlers(internet: InternetChargingService, logger: Logger): InternetHandlers {
  return {
    ReportUsage: unary<UsageReport__Output, UsageReportResult>(logger, async (call) => {
      const r = call.request;
      const outcome = await internet.report({
        reportId: r.reportId,
        secondary: secondaryOf(call),
        intervalStartMs: Number(r.intervalStartMs),
        intervalEndMs: Number(r.intervalEndMs),
        lines: r.lines.map((l) => ({
          username: l.username,
          domain: l.domain,
          bytesIn: Number(l.bytesIn),
          bytesOut: Number(l.bytesOut),
          cacheHitBytes: Number(l.cacheHitBytes),
          requests: Number(l.requests),
          firstSeenMs: Number(l.firstSeenMs),
          lastSeenMs: Number(l.lastSeenMs),
        })),
      });
      return { reportId: outcome.reportId, charged: outcome.charged, blockedUsers: outcome.blockedUsers };
    }),
  };
}
