// The territorial referential loaded from the real HCP data: counts, hierarchy, crosswalk, resolve, search.
import { mkdtempSync, readdirSync, readFileSync, copyFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TERRITORY_DATA_DIR,
  Territory,
  TerritoryDataError,
  UnknownTerritoryCodeError,
  type MatchKind,
  type SearchHit,
  type TerritorialUnit,
} from './territory.ts';

const territory = Territory.load();
const codes = (units: readonly TerritorialUnit[] | undefined): string[] => (units ?? []).map((u) => u.code);
const hitCodes = (hits: readonly SearchHit[]): string[] => hits.map((h) => h.unit.code);
const MATCH_ORDER: readonly MatchKind[] = ['exact', 'prefix', 'word-prefix', 'substring', 'transliteration'];

describe('counts', () => {
  it('has the 12 régions, 83 province-level units, 213 cercles and 1,503 communes', () => {
    expect(territory.all('region')).toHaveLength(12);
    expect(territory.all('province')).toHaveLength(83);
    expect(territory.all('cercle')).toHaveLength(213);
    expect(territory.all('commune')).toHaveLength(1503);
    expect(territory.all()).toHaveLength(12 + 83 + 213 + 1503);
  });

  it("splits the province level into 62 provinces + 13 préfectures = 75, plus Casablanca's 8 préfectures d'arrondissements", () => {
    const byType = (type: string) => territory.all('province').filter((u) => u.type === type);
    expect(byType('province')).toHaveLength(62);
    expect(byType('prefecture')).toHaveLength(13);
    expect(byType('prefecture_of_arrondissements')).toHaveLength(8);
    expect(byType('prefecture_of_arrondissements').every((u) => u.parentCode === '06.141')).toBe(true);
    // The régions' own "provinces" column counts the 75 and leaves the préfectures d'arrondissements out.
    const declared = territory.all('region').reduce((sum, r) => sum + (r.kind === 'region' ? r.declared.provinces : 0), 0);
    expect(declared).toBe(75);
  });

  it('has 242 urban communes outside any cercle and 1,261 rural communes each in a cercle', () => {
    const communes = territory.all('commune').flatMap((u) => (u.kind === 'commune' ? [u] : []));
    expect(communes.filter((c) => c.type === 'urban')).toHaveLength(242);
    expect(communes.filter((c) => c.type === 'rural')).toHaveLength(1261);
    expect(communes.every((c) => (c.type === 'urban') === (c.cercleCode === null))).toBe(true);
  });

  it('matches the counts each parent file declares', () => {
    const communesIn = (pred: (u: TerritorialUnit) => boolean) => territory.all('commune').filter(pred).length;
    for (const unit of territory.all()) {
      if (unit.kind === 'region') {
        expect(communesIn((c) => c.regionCode === unit.code), unit.code).toBe(unit.declared.communes);
        const provinces = territory.children(unit.code)?.filter((u) => u.kind === 'province' && u.type !== 'prefecture_of_arrondissements');
        expect(provinces?.length, unit.code).toBe(unit.declared.provinces);
      } else if (unit.kind === 'province') {
        expect(communesIn((c) => c.kind === 'commune' && c.provinceCode === unit.code), unit.code).toBe(unit.declared.communes);
        expect(territory.children(unit.code)?.filter((u) => u.kind === 'cercle').length, unit.code).toBe(unit.declared.cercles);
      } else if (unit.kind === 'cercle') {
        expect(territory.children(unit.code)?.length, unit.code).toBe(unit.declared.communes);
      }
    }
  });

  it('adds up: each cercle and province is the sum of its communes, the country is 36,828,330', () => {
    const sumOfCommunes = (pred: (u: TerritorialUnit) => boolean) =>
      territory.all('commune').filter(pred).reduce((sum, c) => sum + c.population2024, 0);
    for (const cercle of territory.all('cercle')) {
      expect(sumOfCommunes((c) => c.parentCode === cercle.code), cercle.code).toBe(cercle.population2024);
    }
    for (const province of territory.all('province')) {
      if (province.kind !== 'province' || province.type === 'prefecture_of_arrondissements') continue;
      expect(sumOfCommunes((c) => c.kind === 'commune' && c.provinceCode === province.code), province.code).toBe(province.population2024);
    }
    expect(territory.all('region').reduce((sum, r) => sum + r.population2024, 0)).toBe(36_828_330);
    expect(sumOfCommunes(() => true)).toBe(36_828_330);
  });
});

describe('hierarchy', () => {
  it("resolves every commune's parent chain up to its région", () => {
    for (const commune of territory.all('commune')) {
      if (commune.kind !== 'commune') continue;
      const chain = territory.ancestors(commune.code);
      const expected = commune.cercleCode === null ? ['province', 'region'] : ['cercle', 'province', 'region'];
      expect(chain?.map((u) => u.kind), commune.code).toEqual(expected);
      expect(chain?.at(-1)?.code).toBe(commune.regionCode);
      expect(chain?.[0]?.code).toBe(commune.parentCode);
      expect(chain?.some((u) => u.code === commune.provinceCode)).toBe(true);
      for (const ancestor of chain ?? []) expect(commune.code.startsWith(`${ancestor.code}.`), `${commune.code} in ${ancestor.code}`).toBe(true);
    }
  });

  it('gives every unit a unique code and digits form that both find it', () => {
    const all = territory.all();
    expect(new Set(all.map((u) => u.code)).size).toBe(all.length);
    expect(new Set(all.map((u) => u.codeDigits)).size).toBe(all.length);
    for (const unit of all) {
      expect(territory.unit(unit.code)).toBe(unit);
      expect(territory.unit(unit.codeDigits)).toBe(unit);
    }
  });

  it('lists children ordered by kind then code', () => {
    expect(codes(territory.children('01'))).toEqual(['01.051', '01.151', '01.227', '01.331', '01.405', '01.511', '01.571', '01.573']);
    expect(codes(territory.children('01.511.05'))).toEqual(['01.511.05.01', '01.511.05.05', '01.511.05.07', '01.511.05.17', '01.511.05.19']);
    // Casablanca: its 8 préfectures d'arrondissements, then its two communes (the city and the Méchouar).
    expect(codes(territory.children('06.141'))).toEqual([
      '06.141.01.00', '06.141.01.10', '06.141.01.20', '06.141.01.30', '06.141.01.40', '06.141.01.50', '06.141.01.60', '06.141.01.70',
      '06.141.01.0', '06.141.01.81',
    ]);
    expect(codes(territory.children('06'))).not.toContain('06.141.01.00');
    expect(territory.children('06.141.01.0')).toEqual([]);
    expect(territory.children('99')).toBeUndefined();
  });

  it('lists ancestors from the parent up to the région', () => {
    expect(codes(territory.ancestors('01.511.05.19'))).toEqual(['01.511.05', '01.511', '01']); // Hjar Ennhal, rural
    expect(codes(territory.ancestors('01.511.01.01'))).toEqual(['01.511', '01']); // Assilah, urban
    expect(codes(territory.ancestors('06.141.01.30'))).toEqual(['06.141', '06']); // Hay-Hassani
    expect(territory.ancestors('04')).toEqual([]);
    expect(codes(territory.ancestors('01.051.05.01'))).toEqual(['01.051.11', '01.051', '01']); // a 2014 code
    expect(territory.ancestors('nope')).toBeUndefined();
  });

  it('hands out frozen units', () => {
    const unit = territory.unit('03.231');
    expect(Object.isFrozen(unit)).toBe(true);
    expect(Reflect.set(unit ?? {}, 'nameFr', 'Fez')).toBe(false);
    expect(Object.isFrozen(territory.children('03'))).toBe(true);
  });
});

describe('resolve', () => {
  it('finds a current unit by dotted code', () => {
    const r = territory.resolve('03.231');
    expect(r).toMatchObject({ found: true, via: 'current', unit: { kind: 'province', type: 'prefecture', nameFr: 'Fès', nameAr: 'فاس', parentCode: '03' } });
    expect(territory.resolve(' 01.511.05.19 ')).toMatchObject({ found: true, via: 'current', unit: { nameFr: 'Hjar Ennhal', nameAr: 'حجر النحل', type: 'rural' } });
  });

  it('finds a current unit by its code_digits form at every level', () => {
    expect(territory.resolve('11')).toMatchObject({ via: 'current', unit: { kind: 'region', nameFr: 'Laâyoune-Sakia El Hamra' } });
    expect(territory.resolve('01511')).toMatchObject({ via: 'current', unit: { kind: 'province', code: '01.511' } });
    expect(territory.resolve('0151105')).toMatchObject({ via: 'current', unit: { kind: 'cercle', code: '01.511.05' } });
    expect(territory.resolve('015110519')).toMatchObject({ via: 'current', unit: { kind: 'commune', code: '01.511.05.19' } });
    expect(territory.resolve('061410130')).toMatchObject({ via: 'current', unit: { kind: 'province', code: '06.141.01.30', type: 'prefecture_of_arrondissements' } });
  });

  it('keeps the city of Casablanca (06.141.01.0) apart from the préfecture d’arrondissements Casablanca-Anfa (06.141.01.00)', () => {
    expect(territory.resolve('06.141.01.0')).toMatchObject({ unit: { kind: 'commune', nameFr: 'Casablanca', codeDigits: '006141010' } });
    expect(territory.resolve('06.141.01.00')).toMatchObject({ unit: { kind: 'province', nameFr: 'Casablanca-Anfa', codeDigits: '061410100' } });
  });

  it('resolves a 2014 code to the current commune and says so', () => {
    const r = territory.resolve('01.051.05.01');
    expect(r.found && r.via).toBe('crosswalk-2014');
    if (!r.found || r.via !== 'crosswalk-2014') return;
    expect(r.unit).toMatchObject({ kind: 'commune', code: '01.051.11.01', nameFr: 'Ait Kamra' });
    expect(r.crosswalk).toMatchObject({ code2014: '01.051.05.01', method: 'exact_name_in_province', nameAr2014: 'أيت قمرة', normalisedNameMatch: true });
    expect(r.crosswalk.note).toMatch(/Strong evidence/);
    expect(territory.resolve('010510501')).toMatchObject({ found: true, via: 'crosswalk-2014', unit: { code: '01.051.11.01' } });
  });

  it('flags the pairings reached by elimination as weaker', () => {
    const r = territory.resolve('06.461.03.23'); // Oulad M'Hamed (2014) → Ouled M'hamed
    expect(r).toMatchObject({ found: true, via: 'crosswalk-2014', unit: { code: '06.461.11.23', nameFr: "Ouled M'hamed" } });
    if (r.found && r.via === 'crosswalk-2014') {
      expect(r.crosswalk).toMatchObject({ method: 'sole_remaining_in_province', nameFr2014: "Oulad M'Hamed", normalisedNameMatch: false });
      expect(r.crosswalk.note).toMatch(/Weaker evidence/);
    }
  });

  it('does not follow 2014 codes in unit()', () => {
    expect(territory.unit('01.051.05.01')).toBeUndefined();
  });

  it('resolves every 2014 code of the crosswalk to a current commune', () => {
    const crosswalk = territory.crosswalk();
    expect(crosswalk).toHaveLength(207);
    expect(crosswalk.filter((x) => x.method === 'exact_name_in_province')).toHaveLength(203);
    expect(crosswalk.filter((x) => x.method === 'sole_remaining_in_province')).toHaveLength(4);
    expect(new Set(crosswalk.map((x) => x.code2024)).size).toBe(207);
    for (const entry of crosswalk) {
      for (const form of [entry.code2014, entry.codeDigits2014]) {
        const r = territory.resolve(form);
        expect(r, form).toMatchObject({ found: true, via: 'crosswalk-2014', unit: { kind: 'commune', code: entry.code2024 } });
      }
      // Province codes are stable across the two censuses; only the cercle part changed.
      expect(entry.code2014.slice(0, 6)).toBe(entry.code2024.slice(0, 6));
    }
  });

  it('says why an unknown code is not found', () => {
    expect(territory.resolve('01.511.05.99')).toMatchObject({ found: false, reason: 'unknown', code: '01.511.05.99' });
    expect(territory.resolve('13')).toMatchObject({ found: false, reason: 'unknown' });
    const retired = territory.resolve('01.051.05'); // a 2014 cercle of Al Hoceima
    expect(retired).toMatchObject({ found: false, reason: 'unknown' });
    expect(!retired.found && retired.message).toMatch(/2014 cercle code retired/);
  });

  it('says when a code is malformed', () => {
    for (const bad of ['', 'Fès', '1.511', '01-511', '15110519', '01.511.05.190']) {
      expect(territory.resolve(bad), bad).toMatchObject({ found: false, reason: 'malformed' });
    }
  });
});

describe('search', () => {
  it('finds French names with or without accents, in any case', () => {
    for (const q of ['Meknès', 'meknes', 'MEKNES', 'Mèknes']) {
      expect(hitCodes(territory.search(q)).slice(0, 2), q).toEqual(['03.061', '03.061.01.01']);
    }
    expect(hitCodes(territory.search('laayoune', { limit: 3 }))).toEqual(['11.321', '11.321.03', '11.321.01.03']);
    expect(hitCodes(territory.search('Laâyoune', { limit: 3 }))).toEqual(['11.321', '11.321.03', '11.321.01.03']);
    // HCP spells the préfecture "Inezgane-Aït Melloul" but the commune "Ait Melloul".
    expect(territory.search('Aït Melloul', { kind: 'commune' })[0]).toMatchObject({ match: 'exact', unit: { code: '09.273.01.05', nameFr: 'Ait Melloul' } });
    expect(territory.search('ait melloul', { kind: 'province' })[0]).toMatchObject({ match: 'word-prefix', unit: { code: '09.273' } });
  });

  it('finds Arabic names whatever the hamza and alef forms', () => {
    expect(hitCodes(territory.search('أكادير', { limit: 1 }))).toEqual(['09.001.01.01']);
    expect(hitCodes(territory.search('اكادير', { limit: 1 }))).toEqual(['09.001.01.01']);
    expect(hitCodes(territory.search('افران', { kind: 'province' }))).toEqual(['03.271']); // إفران
    expect(hitCodes(territory.search('اسفي', { kind: 'province' }))).toEqual(['07.431']); // آسفي
    expect(hitCodes(territory.search('العرايش', { kind: 'province' }))).toEqual(['01.331']); // العرائش
    expect(hitCodes(territory.search('القنيطره', { limit: 2 }))).toEqual(['04.281', '04.281.01.01']); // ة written ه
    expect(hitCodes(territory.search('الدار البيضا', { limit: 2 }))).toEqual(['06.141', '06.141.01.0']); // ء dropped
    expect(territory.search('مَكْنَاس')[0]).toMatchObject({ match: 'exact', field: 'nameAr', unit: { code: '03.061' } }); // with tashkeel
  });

  it('ranks exact > prefix > word-prefix > substring, then larger levels, then population', () => {
    const hits = territory.search('Fès', { limit: 100 });
    expect(hits.slice(0, 5).map((h) => [h.match, h.unit.code])).toEqual([
      ['exact', '03.231'], // the préfecture
      ['exact', '03.231.01.0'], // the city
      ['prefix', '03'], // Fès-Meknès
      ['prefix', '03.231.81'], // Fès Banlieue
      ['word-prefix', '03.231.01.03'], // Méchouar-Fès-El Jadid
    ]);
    const ranks = hits.map((h) => MATCH_ORDER.indexOf(h.match));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    const ifrane = territory.search('افران');
    expect(ifrane.map((h) => h.match)).toEqual(['exact', 'exact', 'prefix', 'word-prefix', 'substring']);
    expect(ifrane.at(-1)?.unit.nameFr).toBe('Tafrant');
  });

  it('falls back to the transliteration key, ranked last', () => {
    expect(territory.search('Oulad Salah')).toMatchObject([{ match: 'transliteration', unit: { code: '06.385.01.05', nameFr: 'Ouled Salah' } }]);
    expect(hitCodes(territory.search('Shefshawen'))).toEqual(['01.151', '01.151.01.01']);
    const mhamed = territory.search('Mhamed', { limit: 100 });
    expect(mhamed.length).toBeGreaterThan(0);
    expect(mhamed.every((h) => h.unit.nameFr.includes("M'hamed"))).toBe(true);
  });

  it("never offers an M'hamed for Mohamed above the plain-substring rank, in either script", () => {
    const isMhamed = (h: SearchHit) => /m'hamed/i.test(h.unit.nameFr) || h.unit.nameAr.includes('امحمد');
    for (const q of ['Mohamed', 'Mohammed', 'Muhammad', 'محمد', 'مُحَمَّد']) {
      const hits = territory.search(q, { limit: 1000 });
      // "محمد" is literally inside "امحمد", so the substring rank (and only it) shows them, labelled as such.
      expect(hits.filter((h) => isMhamed(h) && h.match !== 'substring'), q).toEqual([]);
    }
    expect(territory.search('Mohamed', { limit: 1000 }).filter(isMhamed)).toEqual([]);
    expect(territory.search('امحمد', { limit: 1000 }).every((h) => h.unit.nameAr.includes('امحمد'))).toBe(true);
  });

  it('finds an Arabic word after its article at the word-prefix rank', () => {
    expect(territory.search('بيضاء', { kind: 'province', limit: 1 })).toMatchObject([{ match: 'word-prefix', unit: { code: '06.141' } }]);
  });

  it('filters by kind', () => {
    expect(territory.search('Laâyoune', { kind: 'commune' }).map((h) => h.unit.code)).toEqual(['11.321.01.03']);
    expect(territory.search('Laâyoune', { kind: 'region' }).map((h) => h.unit.code)).toEqual(['11']);
    expect(territory.search('oulad', { kind: 'cercle', limit: 500 }).every((h) => h.unit.kind === 'cercle')).toBe(true);
  });

  it('filters by an ancestor given in any code form, excluding the ancestor itself', () => {
    const settat = territory.search('Oulad', { under: '06.461', limit: 500 });
    expect(settat.length).toBeGreaterThan(5);
    expect(settat.every((h) => h.unit.code.startsWith('06.461.'))).toBe(true);
    expect(hitCodes(territory.search('Settat', { under: '06' }))).not.toContain('06');
    expect(hitCodes(territory.search('Anfa', { under: '06141' }))).toEqual(['06.141.01.00']);
    expect(territory.search('Tanger', { under: '01.511.05' })).toEqual([]);
    expect(() => territory.search('Tanger', { under: '99' })).toThrow(UnknownTerritoryCodeError);
  });

  it('honours the limit and ignores empty queries', () => {
    expect(territory.search('a', { limit: 7 })).toHaveLength(7);
    expect(territory.search('a')).toHaveLength(20);
    expect(territory.search('  - ')).toEqual([]);
    expect(territory.search('Fès', { limit: 0 })).toEqual([]);
  });
});

describe('loading', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const copyData = (edit: (file: string, text: string) => string): string => {
    const dir = mkdtempSync(join(tmpdir(), 'tabadol-territory-'));
    dirs.push(dir);
    for (const file of readdirSync(DEFAULT_TERRITORY_DATA_DIR)) {
      if (!file.endsWith('.csv')) {
        copyFileSync(join(DEFAULT_TERRITORY_DATA_DIR, file), join(dir, file));
        continue;
      }
      writeFileSync(join(dir, file), edit(file, readFileSync(join(DEFAULT_TERRITORY_DATA_DIR, file), 'utf8')));
    }
    return dir;
  };
  const editLine = (target: string, line: number, change: (text: string) => string) => (file: string, text: string) =>
    file !== target ? text : text.split('\n').map((l, i) => (i === line - 1 ? change(l) : l)).join('\n');

  it('accepts files with a UTF-8 byte-order mark, as upstream publishes them', () => {
    const dir = copyData((_, text) => `\uFEFF${text}`);
    expect(Territory.load(dir).all('commune')).toHaveLength(1503);
  });

  it('fails with file:line on a malformed row', () => {
    const dir = copyData(editLine('communes.csv', 3, (l) => l.replace(',urban,', ',"urban"x,')));
    expect(() => Territory.load(dir)).toThrow(/communes\.csv:3: unexpected "x" after a closing quote/);
  });

  it('fails with file:line on a row with a missing field', () => {
    const dir = copyData(editLine('cercles.csv', 3, (l) => l.split(',').slice(0, -1).join(',')));
    expect(() => Territory.load(dir)).toThrow(/cercles\.csv:3: 8 fields, expected 9/);
  });

  it('fails with file:line on a broken parent link', () => {
    const dir = copyData(editLine('communes.csv', 2, (l) => l.replace(',01,01.511,', ',01,01.999,')));
    expect(() => Territory.load(dir)).toThrow(TerritoryDataError);
    expect(() => Territory.load(dir)).toThrow(/communes\.csv:2: province 01\.999 does not exist/);
  });

  it('fails on a code_digits that disagrees with the code, and on a non-numeric population', () => {
    expect(() => Territory.load(copyData(editLine('regions.csv', 2, (l) => l.replace('01,01,', '01,02,'))))).toThrow(/regions\.csv:2: code_digits 02 does not match code 01/);
    expect(() => Territory.load(copyData(editLine('provinces.csv', 2, (l) => l.replace(',1494413,', ',1 494 413,'))))).toThrow(/provinces\.csv:2: population_2024 is not a whole number/);
  });

  it('fails when a 2014 code in the crosswalk is also a current code', () => {
    const dir = copyData(editLine('2014-2024.csv', 2, (l) => l.replace('01.051.05.01', '01.511.05.19')));
    expect(() => Territory.load(dir)).toThrow(/2014-2024\.csv:2: 2014 code 01\.511\.05\.19 is also the current code of commune/);
  });
});
