// The platform's review workflow and the dashboard its home screen shows (the ministry's 2019 talk: "EXAMEN / REEXAMEN /
// VERIFICATION ANNUELLE", each with its dossiers awaiting signature, notification of the decision, examination by the
// national commission (CN) and instruction by the permanent secretariat (SP); then the requests awaiting assignment,
// re-examination, change of status, sanction and downgrade). The counts are computed from the dossiers and requests the
// platform holds at the moment of asking, never kept as numbers; `step` is one unit of the staff's work, which moves
// them (the demo calls it every few seconds, the tests call it directly). Deterministic from its seed.
import { classes, prng, procedures, workflowStates, type CompanyRecord, type Procedure, type WorkflowState } from './data.ts';
import type { BtpStore } from './store.ts';

/** Requests other than a dossier, filed against a company holding a certificate. */
export const requestKinds = {
  REEXAMEN: 'Réexamen',
  CHANGEMENT_STATUT: 'Demande de changement de statut',
  SANCTION: 'Demande de Sanction',
  DECLASSEMENT: 'Demande de déclassement',
} as const;
export type RequestKind = keyof typeof requestKinds;

export interface PendingRequest {
  id: string;
  ice: string;
  kind: RequestKind;
  filedOn: string;
}

/** The four waiting states of a dossier under review, in the order the dashboard lists them. */
const dashboardStates = ['EN_ATTENTE_SIGNATURE', 'EN_ATTENTE_NOTIFICATION_DECISION', 'EN_ATTENTE_EXAMEN_CN', 'EN_ATTENTE_INSTRUCTION_SP'] as const;
const procedureLabels: Record<Procedure, string> = { EXAMEN: 'Examen', REEXAMEN: 'Réexamen', VERIFICATION_ANNUELLE: 'Vérification annuelle' };
/** Where a dossier goes next. */
const nextState: Partial<Record<WorkflowState, WorkflowState>> = {
  EN_ATTENTE_AFFECTATION: 'EN_ATTENTE_INSTRUCTION_SP',
  EN_ATTENTE_INSTRUCTION_SP: 'EN_ATTENTE_EXAMEN_CN',
  EN_ATTENTE_EXAMEN_CN: 'EN_ATTENTE_SIGNATURE',
  EN_ATTENTE_SIGNATURE: 'EN_ATTENTE_NOTIFICATION_DECISION',
  EN_ATTENTE_NOTIFICATION_DECISION: 'DECISION_NOTIFIEE',
};

export interface Dashboard {
  asOf: string;
  procedures: Array<{ procedure: Procedure; libelle: string; etats: Array<{ etat: (typeof dashboardStates)[number]; libelle: string; nombre: number }> }>;
  demandes: Array<{ type: 'AFFECTATION' | RequestKind; libelle: string; nombre: number }>;
}

/** What one step of work did, in plain words (the demo logs it). */
export type WorkflowEvent =
  | { kind: 'advanced'; ice: string; procedure: Procedure; from: WorkflowState; to: WorkflowState }
  | { kind: 'filed-dossier'; ice: string; procedure: Procedure }
  | { kind: 'filed-request'; ice: string; request: RequestKind }
  | { kind: 'processed-request'; ice: string; request: RequestKind };

const today = (): string => new Date().toISOString().slice(0, 10);

export class BtpWorkflow {
  private readonly random: () => number;
  private readonly pending: PendingRequest[] = [];
  private filed = 0;

  /**
   * The requests pending at start are filed as the talk's screen shows them (one re-examination, four sanctions),
   * against companies of the dataset drawn from the seed: data the counts are then computed from like any other.
   */
  constructor(private readonly store: BtpStore, seed = 2019) {
    this.random = prng(seed);
    const certified = this.certified();
    for (const kind of ['REEXAMEN', 'SANCTION', 'SANCTION', 'SANCTION', 'SANCTION'] as const) {
      const company = this.pick(certified);
      if (company) this.file(company.profile.ice, kind);
    }
  }

  requests(): readonly PendingRequest[] {
    return this.pending;
  }

  dashboard(): Dashboard {
    const counts = new Map<string, number>();
    let awaitingAssignment = 0;
    for (const { profile } of this.store.all()) {
      const { procedure, etat } = profile.statutDossier;
      // A re-examination dossier awaiting assignment is counted once, under "Réexamen" with the requests.
      if (etat === 'EN_ATTENTE_AFFECTATION') awaitingAssignment += procedure === 'REEXAMEN' ? 0 : 1;
      else counts.set(`${procedure} ${etat}`, (counts.get(`${procedure} ${etat}`) ?? 0) + 1);
    }
    const requestsOf = (kind: RequestKind) => this.pending.filter((r) => r.kind === kind).length;
    const reexaminationsUnassigned = this.store.all().filter((r) => r.profile.statutDossier.procedure === 'REEXAMEN' && r.profile.statutDossier.etat === 'EN_ATTENTE_AFFECTATION').length;
    return {
      asOf: new Date().toISOString(),
      procedures: procedures.map((procedure) => ({
        procedure,
        libelle: procedureLabels[procedure],
        etats: dashboardStates.map((etat) => ({ etat, libelle: workflowStates[etat], nombre: counts.get(`${procedure} ${etat}`) ?? 0 })),
      })),
      demandes: [
        { type: 'AFFECTATION', libelle: "Demandes en attente d'affectation", nombre: awaitingAssignment },
        ...(Object.keys(requestKinds) as RequestKind[]).map((kind) => ({
          type: kind,
          libelle: requestKinds[kind],
          nombre: requestsOf(kind) + (kind === 'REEXAMEN' ? reexaminationsUnassigned : 0),
        })),
      ],
    };
  }

  /**
   * One unit of the staff's work: most often a dossier moves one state on; otherwise a company files a new dossier or a
   * request, or the oldest request is dealt with. Falls back to moving a dossier when the drawn work has nothing to act on.
   */
  step(): WorkflowEvent | undefined {
    const roll = this.random();
    const done = roll < 0.5 ? undefined : roll < 0.65 ? this.fileDossier() : roll < 0.8 ? this.fileRequest() : this.processRequest();
    return done ?? this.advance();
  }

  /** Moves one dossier under review one state on (the decision notified grants the certificate a first dossier waited for). */
  advance(): WorkflowEvent | undefined {
    const record = this.pick(this.store.all().filter((r) => r.profile.statutDossier.etat !== 'DECISION_NOTIFIEE'));
    if (!record) return undefined;
    const { procedure, etat: from } = record.profile.statutDossier;
    const to = nextState[from] ?? 'DECISION_NOTIFIEE';
    this.store.update(record.profile.ice, (r) => {
      r.profile.statutDossier = { procedure, etat: to, libelle: workflowStates[to] };
      if (to === 'DECISION_NOTIFIEE') decide(r);
    });
    return { kind: 'advanced', ice: record.profile.ice, procedure, from, to };
  }

  private fileDossier(): WorkflowEvent | undefined {
    const record = this.pick(this.certified().filter((r) => r.profile.statutDossier.etat === 'DECISION_NOTIFIEE'));
    if (!record) return undefined;
    this.store.update(record.profile.ice, (r) => {
      r.profile.statutDossier = { procedure: 'VERIFICATION_ANNUELLE', etat: 'EN_ATTENTE_AFFECTATION', libelle: workflowStates.EN_ATTENTE_AFFECTATION };
      r.profile.dateDepot = today();
    });
    return { kind: 'filed-dossier', ice: record.profile.ice, procedure: 'VERIFICATION_ANNUELLE' };
  }

  private fileRequest(): WorkflowEvent | undefined {
    const record = this.pick(this.certified());
    if (!record) return undefined;
    const kinds = Object.keys(requestKinds) as RequestKind[];
    const kind = kinds[Math.floor(this.random() * kinds.length)] ?? 'SANCTION';
    this.file(record.profile.ice, kind);
    return { kind: 'filed-request', ice: record.profile.ice, request: kind };
  }

  /** The oldest request dealt with: a re-examination opens its dossier with the SP, a sanction suspends, a downgrade lowers a class. */
  private processRequest(): WorkflowEvent | undefined {
    const request = this.pending.shift();
    if (!request) return undefined;
    this.store.update(request.ice, (r) => {
      const c = r.classification;
      if (request.kind === 'REEXAMEN') r.profile.statutDossier = { procedure: 'REEXAMEN', etat: 'EN_ATTENTE_INSTRUCTION_SP', libelle: workflowStates.EN_ATTENTE_INSTRUCTION_SP };
      if (request.kind === 'SANCTION') c.statut = 'SUSPENDUE';
      if (request.kind === 'CHANGEMENT_STATUT' && c.statut === 'SUSPENDUE') c.statut = 'VALIDE';
      if (request.kind === 'DECLASSEMENT') {
        const q = c.qualifications[0];
        if (q) for (const held of c.qualifications.filter((x) => x.secteur.code === q.secteur.code)) held.classe = classes[Math.min(classes.length - 1, classes.indexOf(held.classe) + 1)] ?? held.classe;
      }
    });
    return { kind: 'processed-request', ice: request.ice, request: request.kind };
  }

  private file(ice: string, kind: RequestKind): void {
    this.filed++;
    this.pending.push({ id: `D-${String(this.filed).padStart(6, '0')}`, ice, kind, filedOn: today() });
  }

  private certified(): CompanyRecord[] {
    return this.store.all().filter((r) => r.classification.qualifications.length > 0);
  }

  private pick<T>(values: readonly T[]): T | undefined {
    return values[Math.floor(this.random() * values.length)];
  }
}

/** The decision notified: a first dossier's certificate is issued (class 5 in construction, valid five years). */
function decide(r: CompanyRecord): void {
  const date = today();
  r.classification.decisionDate = date;
  if (r.classification.qualifications.length > 0) return;
  const validUntil = `${Number(date.slice(0, 4)) + 5}${date.slice(4)}`;
  r.classification.qualifications = [{ secteur: { code: 'A', libelle: 'Construction' }, classe: '5', qualification: { code: 'A.1', libelle: 'Gros œuvre de bâtiment' }, validUntil }];
  r.classification.statut = 'VALIDE';
}
