// Original file: protos/quotient/v1/printing.proto

import type { Long } from '@grpc/proto-loader';

export interface PrintJob {
  /**
   * The CUPS job UUID (job-uuid, "urn:uuid:..."); 1..191 chars, without "#" when authorised
   * (it numbers attempts). An offline record names the attempt the secondary printed: the UUID,
   * or "<uuid>#offline-<epoch ms>" for a job printed again after an attempt it committed.
   */
  'jobId'?: (string);
  /**
   * The CUPS queue; with the calling secondary's name it identifies the printer. 1..191 chars.
   */
  'queue'?: (string);
  /**
   * Who printed (CUPS job-originating-user-name). 1..128 characters.
   */
  'username'?: (string);
  /**
   * The document's name (job-name); may be empty; at most 1024 characters.
   */
  'documentName'?: (string);
  /**
   * Pages in one copy of the document, as analysed; 0..1,000,000.
   */
  'pages'?: (number);
  /**
   * How many of those pages are in colour; 0..pages.
   */
  'colourPages'?: (number);
  /**
   * Copies to print; 1..10,000.
   */
  'copies'?: (number);
  /**
   * Printed on both sides of the sheet.
   */
  'duplex'?: (boolean);
  /**
   * Paper size as CUPS names it (media / PageSize), e.g. "iso_a4_210x297mm" or "A4"; may be empty;
   * at most 64 characters.
   */
  'paperSize'?: (string);
  /**
   * Finishing options asked for, e.g. "staple", "punch"; lower-case; at most 20, each 1..32
   * letters, digits, ".", "_" or "-".
   */
  'finishings'?: (string)[];
  /**
   * Shared account (billing code) to charge instead of the user's own, when the job names one;
   * at most 64 characters.
   */
  'accountCode'?: (string);
  /**
   * The host the job came from (job-originating-host-name), for reports; may be empty; at most
   * 255 characters.
   */
  'clientHost'?: (string);
  /**
   * When CUPS received the job, epoch milliseconds; 0 = now.
   */
  'submittedAtMs'?: (number | string | Long);
}

export interface PrintJob__Output {
  /**
   * The CUPS job UUID (job-uuid, "urn:uuid:..."); 1..191 chars, without "#" when authorised
   * (it numbers attempts). An offline record names the attempt the secondary printed: the UUID,
   * or "<uuid>#offline-<epoch ms>" for a job printed again after an attempt it committed.
   */
  'jobId': (string);
  /**
   * The CUPS queue; with the calling secondary's name it identifies the printer. 1..191 chars.
   */
  'queue': (string);
  /**
   * Who printed (CUPS job-originating-user-name). 1..128 characters.
   */
  'username': (string);
  /**
   * The document's name (job-name); may be empty; at most 1024 characters.
   */
  'documentName': (string);
  /**
   * Pages in one copy of the document, as analysed; 0..1,000,000.
   */
  'pages': (number);
  /**
   * How many of those pages are in colour; 0..pages.
   */
  'colourPages': (number);
  /**
   * Copies to print; 1..10,000.
   */
  'copies': (number);
  /**
   * Printed on both sides of the sheet.
   */
  'duplex': (boolean);
  /**
   * Paper size as CUPS names it (media / PageSize), e.g. "iso_a4_210x297mm" or "A4"; may be empty;
   * at most 64 characters.
   */
  'paperSize': (string);
  /**
   * Finishing options asked for, e.g. "staple", "punch"; lower-case; at most 20, each 1..32
   * letters, digits, ".", "_" or "-".
   */
  'finishings': (string)[];
  /**
   * Shared account (billing code) to charge instead of the user's own, when the job names one;
   * at most 64 characters.
   */
  'accountCode': (string);
  /**
   * The host the job came from (job-originating-host-name), for reports; may be empty; at most
   * 255 characters.
   */
  'clientHost': (string);
  /**
   * When CUPS received the job, epoch milliseconds; 0 = now.
   */
  'submittedAtMs': (number);
}
