// Original file: protos/quotient/v1/internet.proto

import type { Long } from '@grpc/proto-loader';

export interface UsageLine {
  /**
   * The authenticated proxy user (Squid's %un), unescaped. 1..128 characters.
   */
  'username'?: (string);
  /**
   * Destination host name (no port), lower-case; for zero-rated domains and reports.
   */
  'domain'?: (string);
  /**
   * Bytes sent to the client (downloads), excluding cache hits.
   */
  'bytesIn'?: (number | string | Long);
  /**
   * Bytes the client sent (uploads).
   */
  'bytesOut'?: (number | string | Long);
  /**
   * Bytes served from Squid's cache (TCP_HIT, TCP_MEM_HIT, ...).
   */
  'cacheHitBytes'?: (number | string | Long);
  /**
   * Requests counted.
   */
  'requests'?: (number);
  /**
   * First and last request in the interval, epoch ms (for time-period charging).
   */
  'firstSeenMs'?: (number | string | Long);
  'lastSeenMs'?: (number | string | Long);
}

export interface UsageLine__Output {
  /**
   * The authenticated proxy user (Squid's %un), unescaped. 1..128 characters.
   */
  'username': (string);
  /**
   * Destination host name (no port), lower-case; for zero-rated domains and reports.
   */
  'domain': (string);
  /**
   * Bytes sent to the client (downloads), excluding cache hits.
   */
  'bytesIn': (number);
  /**
   * Bytes the client sent (uploads).
   */
  'bytesOut': (number);
  /**
   * Bytes served from Squid's cache (TCP_HIT, TCP_MEM_HIT, ...).
   */
  'cacheHitBytes': (number);
  /**
   * Requests counted.
   */
  'requests': (number);
  /**
   * First and last request in the interval, epoch ms (for time-period charging).
   */
  'firstSeenMs': (number);
  'lastSeenMs': (number);
}
