/**
 * The CUPS options argument and what it says about a job: colour, duplex, paper, finishings,
 * billing code, the job UUID; and the copy rule that keeps copies from being counted twice.
 */
import assert from 'node:assert/strict';
import { chargedCopies, jobIdFor, optionFacts, parseCupsOptions } from '../../../secondary/print/job-options';

/** The options argument CUPS 2.4 passed for `lp -n 2 -o sides=two-sided-long-edge -t title` (from a real run). */
const FROM_CUPS =
  'finishings=3 number-up=1 print-color-mode=monochrome sides=two-sided-long-edge job-uuid=urn:uuid:ac6ef0dc-7ea7-3f69-6256-a6bc36516a10 job-originating-host-name=localhost date-time-at-creation= date-time-at-processing= time-at-creation=1795325011 time-at-processing=1795325011';

describe('parseCupsOptions()', () => {
  it('reads name=value pairs as CUPS writes them, with empty values', () => {
    const o = parseCupsOptions(FROM_CUPS);
    assert.equal(o.get('sides'), 'two-sided-long-edge');
    assert.equal(o.get('date-time-at-creation'), '');
    assert.equal(o.get('time-at-creation'), '1795325011');
  });

  it('unescapes backslashes and quotes, and keeps {collections} whole', () => {
    const o = parseCupsOptions(
      `job-billing=Project\\ 42 title='a b' x="c\\"d" media-col={media-size={x-dimension=21000 y-dimension=29700}} Duplex=DuplexNoTumble`,
    );
    assert.equal(o.get('job-billing'), 'Project 42');
    assert.equal(o.get('title'), 'a b');
    assert.equal(o.get('x'), 'c"d');
    assert.equal(o.get('media-col'), '{media-size={x-dimension=21000 y-dimension=29700}}');
    assert.equal(o.get('duplex'), 'DuplexNoTumble');
  });

  it('reads bare options as true and no-options as false', () => {
    const o = parseCupsOptions('landscape nocollate fit-to-page');
    assert.equal(o.get('landscape'), 'true');
    assert.equal(o.get('collate'), 'false');
    assert.equal(o.get('fit-to-page'), 'true');
  });

  it('never throws on garbage', () => {
    for (const junk of ['', '   ', '=', '==x', "a='unterminated", 'b=\\', '{{{{', '\u0000\u0001=\u0002', 'x'.repeat(100_000)]) {
      assert.doesNotThrow(() => optionFacts(parseCupsOptions(junk)));
    }
  });
});

describe('optionFacts()', () => {
  it('takes colour from print-color-mode, else ColorModel', () => {
    assert.equal(optionFacts(parseCupsOptions('print-color-mode=color')).colour, true);
    assert.equal(optionFacts(parseCupsOptions('print-color-mode=monochrome')).colour, false);
    assert.equal(optionFacts(parseCupsOptions('ColorModel=Gray')).colour, false);
    assert.equal(optionFacts(parseCupsOptions('ColorModel=KGray')).colour, false);
    assert.equal(optionFacts(parseCupsOptions('ColorModel=RGB')).colour, true);
    assert.equal(optionFacts(parseCupsOptions('ColorModel=CMYK')).colour, true);
    assert.equal(optionFacts(parseCupsOptions('print-color-mode=monochrome ColorModel=RGB')).colour, false);
    assert.equal(optionFacts(parseCupsOptions('number-up=1')).colour, null);
  });

  it('takes duplex from sides, else the PPD Duplex option', () => {
    assert.equal(optionFacts(parseCupsOptions('sides=two-sided-long-edge')).duplex, true);
    assert.equal(optionFacts(parseCupsOptions('sides=two-sided-short-edge')).duplex, true);
    assert.equal(optionFacts(parseCupsOptions('sides=one-sided Duplex=DuplexNoTumble')).duplex, false);
    assert.equal(optionFacts(parseCupsOptions('Duplex=DuplexTumble')).duplex, true);
    assert.equal(optionFacts(parseCupsOptions('Duplex=None')).duplex, false);
    assert.equal(optionFacts(parseCupsOptions('')).duplex, null);
  });

  it('takes the paper size from media (skipping trays and types), else PageSize', () => {
    assert.equal(optionFacts(parseCupsOptions('media=A4')).paperSize, 'A4');
    assert.equal(optionFacts(parseCupsOptions('media=Tray1,iso_a3_297x420mm,plain')).paperSize, 'iso_a3_297x420mm');
    assert.equal(optionFacts(parseCupsOptions('PageSize=Letter')).paperSize, 'Letter');
    assert.equal(optionFacts(parseCupsOptions('copies=2')).paperSize, null);
  });

  it('names finishings from IPP enums and PPD options; 3 (none) is nothing', () => {
    assert.deepEqual(optionFacts(parseCupsOptions('finishings=3')).finishings, []);
    assert.deepEqual(optionFacts(parseCupsOptions('finishings=4,5')).finishings, ['staple', 'punch']);
    assert.deepEqual(optionFacts(parseCupsOptions('finishings=20 StapleLocation=SinglePortrait')).finishings, ['staple']);
    assert.deepEqual(optionFacts(parseCupsOptions('StapleLocation=None Fold=True')).finishings, ['fold']);
  });

  it('reads the billing code, the job UUID, the client host and the creation time', () => {
    const f = optionFacts(parseCupsOptions(`${FROM_CUPS} job-billing=PHYS-101`));
    assert.equal(f.accountCode, 'PHYS-101');
    assert.equal(f.jobUuid, 'urn:uuid:ac6ef0dc-7ea7-3f69-6256-a6bc36516a10');
    assert.equal(f.clientHost, 'localhost');
    assert.equal(f.timeAtCreation, 1795325011);
    assert.equal(optionFacts(parseCupsOptions('job-uuid=not-a-uuid')).jobUuid, null);
  });
});

describe('chargedCopies()', () => {
  it('multiplies by the copies argument when the backend got a file (raw queue: the backend makes the copies)', () => {
    assert.equal(chargedCopies({ hasFileArgument: true, copiesArgument: 3, copiesInDocument: 1 }), 3);
    assert.equal(chargedCopies({ hasFileArgument: true, copiesArgument: 2, copiesInDocument: 2 }), 4);
  });

  it('uses only the copies in the document when the filters produced it (stdin): never both', () => {
    assert.equal(chargedCopies({ hasFileArgument: false, copiesArgument: 3, copiesInDocument: 3 }), 3);
    assert.equal(chargedCopies({ hasFileArgument: false, copiesArgument: 3, copiesInDocument: 1 }), 1);
  });

  it('treats nonsense as one copy and caps huge numbers', () => {
    assert.equal(chargedCopies({ hasFileArgument: true, copiesArgument: Number.NaN, copiesInDocument: 0 }), 1);
    assert.equal(chargedCopies({ hasFileArgument: true, copiesArgument: 1_000_000, copiesInDocument: 1 }), 10_000);
  });
});

describe('jobIdFor()', () => {
  it('is the CUPS job UUID when CUPS gives one', () => {
    assert.equal(
      jobIdFor({ jobUuid: 'urn:uuid:ac6ef0dc-7ea7-3f69-6256-a6bc36516a10', timeAtCreation: 1 }, { host: 'h', queue: 'q', cupsJobId: '7' }),
      'urn:uuid:ac6ef0dc-7ea7-3f69-6256-a6bc36516a10',
    );
  });

  it('is stable across retries without one: server, queue, job id and creation time', () => {
    const a = jobIdFor({ jobUuid: null, timeAtCreation: 1795325011 }, { host: 'print-1', queue: 'lab', cupsJobId: '7' });
    assert.equal(a, 'cups:print-1/lab/7@1795325011');
    assert.equal(jobIdFor({ jobUuid: null, timeAtCreation: 1795325011 }, { host: 'print-1', queue: 'lab', cupsJobId: '7' }), a);
  });
});
