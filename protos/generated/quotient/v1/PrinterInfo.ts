// Original file: protos/quotient/v1/cluster.proto


export interface PrinterInfo {
  /**
   * CUPS queue name; with the secondary's name it identifies the printer. 1..191 characters.
   */
  'queue'?: (string);
  /**
   * Human description (CUPS printer-info), may be empty.
   */
  'description'?: (string);
  /**
   * Where it is (CUPS printer-location), may be empty.
   */
  'location'?: (string);
  /**
   * The real device behind the wrapper, e.g. "socket://10.0.0.5:9100"; for the admin pages.
   */
  'deviceUri'?: (string);
}

export interface PrinterInfo__Output {
  /**
   * CUPS queue name; with the secondary's name it identifies the printer. 1..191 characters.
   */
  'queue': (string);
  /**
   * Human description (CUPS printer-info), may be empty.
   */
  'description': (string);
  /**
   * Where it is (CUPS printer-location), may be empty.
   */
  'location': (string);
  /**
   * The real device behind the wrapper, e.g. "socket://10.0.0.5:9100"; for the admin pages.
   */
  'deviceUri': (string);
}
