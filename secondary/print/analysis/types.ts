/** Types shared by the page analysers (the public ones are re-exported by index.ts). */
export type DocumentFormat = 'pdf' | 'postscript' | 'pwg-raster' | 'urf' | 'pcl5' | 'pclxl' | 'text' | 'unknown';

export interface DocumentAnalysis {
  format: DocumentFormat;
  /** Pages (impressions) in ONE copy of the document as it will print; >= 1 unless the input is empty. */
  pages: number;
  /** Colour pages when the format says; null = unknown (the caller decides from job options). */
  colourPages: number | null;
  /** Copies the document itself asks for; 1 when none. */
  copiesInDocument: number;
  duplex: boolean | null;
  paperSize: string | null;
  /** How it was counted: 'pdf-page-tree', 'dsc-pages', 'ps-showpage', 'pwg-headers', 'fallback-size', ... */
  method: string;
  /** True when the count is the documented fallback, not a real count. */
  fallback: boolean;
  warnings: string[];
}

/** What one format analyser returns (index.ts adds the format). */
export type Counted = Omit<DocumentAnalysis, 'format'>;
