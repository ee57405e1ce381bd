// The demo practice `npm run dev` seeds: its organization, people, patients, working hours,
// this week's appointment slots and notes, with fixed ids. scripts/seed.ts writes them.
export const DEMO_ORGANIZATION = {
  id: "01936f3e-0000-7000-8000-000000000001",
  name: "Tend Demo Practice",
  slug: "demo",
  timezone: "Europe/London",
};

export const DEMO_OWNER = {
  id: "01936f3e-0000-7000-8000-000000000002",
  email: "owner@demo.tend.test",
  name: "Demo Owner",
  password: "quiet lantern over the harbour",
};

export type DemoRole = "owner" | "clinician" | "staff" | "caregiver" | "patient";

export interface DemoUser {
  id: string;
  email: string;
  name: string;
  password: string;
  role: DemoRole;
}

export const demoId = (n: number) => `01936f3e-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;

export const AMARA = { id: demoId(3), email: "amara.okafor@demo.tend.test", name: "Dr Amara Okafor", password: "copper kettle by the window", role: "clinician" } as const;
export const MATEO = { id: demoId(4), email: "mateo.alvarez@demo.tend.test", name: "Dr Mateo Álvarez", password: "seven herons across the marsh", role: "clinician" } as const;
export const FRONT_DESK = { id: demoId(5), email: "frontdesk@demo.tend.test", name: "Priya Raman", password: "bright ledger on the front desk", role: "staff" } as const;
export const CAREGIVER = { id: demoId(6), email: "siobhan.oconnor@demo.tend.test", name: "Siobhán O'Connor", password: "warm scarf in the hallway", role: "caregiver" } as const;
export const PATIENT_LOGIN = { id: demoId(7), email: "zoe.lefevre@demo.tend.test", name: "Zoë Lefèvre", password: "paper boats on the river", role: "patient" } as const;

/** Everyone who signs in to the demo practice, in the order the logins are printed. */
export const DEMO_USERS: DemoUser[] = [{ ...DEMO_OWNER, role: "owner" }, AMARA, MATEO, FRONT_DESK, CAREGIVER, PATIENT_LOGIN];

export interface DemoPatient {
  id: string;
  name: string;
  preferredName?: string;
  dateOfBirth: string;
  phone: string;
  email?: string;
  timezone: string;
  language: string;
  userId?: string;
  team: { userId: string; relationship: string; primary: boolean }[];
}

export const clinicianOf = (clinician: { id: string }, primary = true) => ({ userId: clinician.id, relationship: "clinician", primary });

/** Eight patients; every one has a primary clinician, some a second clinician or the caregiver. */
export const DEMO_PATIENTS: DemoPatient[] = [
  { id: demoId(0x101), name: "Zoë Lefèvre", dateOfBirth: "1991-04-17", phone: "+447700900123", email: PATIENT_LOGIN.email, timezone: "Europe/London", language: "fr", userId: PATIENT_LOGIN.id, team: [clinicianOf(AMARA), { userId: CAREGIVER.id, relationship: "sister", primary: false }] },
  { id: demoId(0x102), name: "José Núñez García", preferredName: "Pepe", dateOfBirth: "1958-11-02", phone: "+34600123456", timezone: "Europe/Madrid", language: "es", team: [clinicianOf(MATEO)] },
  { id: demoId(0x103), name: "Aoife Ní Bhriain", dateOfBirth: "1944-02-29", phone: "+353871234567", timezone: "Europe/Dublin", language: "en-IE", team: [clinicianOf(AMARA), { userId: CAREGIVER.id, relationship: "daughter", primary: false }] },
  { id: demoId(0x104), name: "Björn Åkesson", dateOfBirth: "1979-07-08", phone: "+46701234567", timezone: "Europe/Stockholm", language: "sv", team: [clinicianOf(MATEO)] },
  { id: demoId(0x105), name: "Aroha Te Whata", dateOfBirth: "1986-09-23", phone: "+64211234567", timezone: "Pacific/Auckland", language: "en-NZ", team: [clinicianOf(AMARA)] },
  { id: demoId(0x106), name: "François Dubois", dateOfBirth: "1967-12-30", phone: "+33612345678", timezone: "Europe/Paris", language: "fr", team: [clinicianOf(MATEO), clinicianOf(AMARA, false)] },
  { id: demoId(0x107), name: "Chidi Okonkwo", dateOfBirth: "2001-05-14", phone: "+2348012345678", timezone: "Africa/Lagos", language: "en", team: [clinicianOf(AMARA)] },
  { id: demoId(0x108), name: "Małgorzata Wiśniewska", preferredName: "Gosia", dateOfBirth: "1952-03-05", phone: "+48601234567", timezone: "Europe/Warsaw", language: "pl", team: [clinicianOf(MATEO), { userId: CAREGIVER.id, relationship: "neighbour", primary: false }] },
];

export const patient = (n: number): DemoPatient => DEMO_PATIENTS[n - 1] as DemoPatient;

/** Weekly hours, in the practice's time zone (ISO weekdays, Monday = 1). */
export const WORKING_HOURS = [
  { userId: AMARA.id, intervals: [1, 2, 3, 4, 5].map((weekday) => ({ weekday, start: "09:00", end: "17:00" })) },
  { userId: MATEO.id, intervals: [...[1, 2, 3, 4].map((weekday) => ({ weekday, start: "08:00", end: "16:00" })), { weekday: 6, start: "09:00", end: "13:00" }] },
];

export interface Slot {
  /** Names the slot within its week: with the week's Monday it makes the appointment's id. */
  key: string;
  day: number;
  localTime: string;
  clinicianId: string;
  patientId: string;
  kind: "in_person" | "telehealth";
  location: string | null;
  videoUrl: string | null;
  /** What it is once over, and before. */
  past: "completed" | "no_show" | "cancelled";
  upcoming: "scheduled" | "confirmed" | "cancelled";
}

/**
 * This week's sessions, 50 minutes each, inside each clinician's hours and at times that never
 * overlap across clinicians (08:00, 11:30 and 15:00 for one; 09:00, 10:30 and 14:00 for the other),
 * so neither a clinician nor a patient is ever booked twice.
 */
export function weekSlots(): Slot[] {
  const slots: Slot[] = [];
  const plan = [
    { clinician: AMARA, days: [0, 1, 2, 3, 4], times: ["09:00", "10:30", "14:00"], patients: [1, 3, 5, 6, 7], room: "Room 1" },
    { clinician: MATEO, days: [0, 1, 2, 3], times: ["08:00", "11:30", "15:00"], patients: [2, 4, 6, 8], room: "Room 2" },
    { clinician: MATEO, days: [5], times: ["09:00", "10:30"], patients: [8, 2], room: "Room 2" },
  ];
  let n = 0;
  for (const { clinician, days, times, patients, room } of plan) {
    for (const day of days) {
      times.forEach((localTime, index) => {
        const who = patient(patients[(day * times.length + index) % patients.length] ?? 1);
        const telehealth = who.timezone === "Pacific/Auckland" || index === 2;
        n++;
        slots.push({
          key: `${clinician.id}:${day}:${localTime}`,
          day,
          localTime,
          clinicianId: clinician.id,
          patientId: who.id,
          kind: telehealth ? "telehealth" : "in_person",
          location: telehealth ? null : room,
          videoUrl: telehealth ? `https://meet.demo.tend.test/${who.id.slice(-4)}-${day}${index}` : null,
          past: n % 7 === 0 ? "no_show" : "completed",
          upcoming: n % 9 === 0 ? "cancelled" : n % 2 === 0 ? "confirmed" : "scheduled",
        });
      });
    }
  }
  return slots;
}

export interface DemoNote {
  id: string;
  patientId: string;
  authorId: string;
  format: "soap" | "dap" | "free";
  content: Record<string, string>;
  signed: boolean;
  daysAgo: number;
  addendum?: { id: string; body: string };
}

export const DEMO_NOTES: DemoNote[] = [
  {
    id: demoId(0x201), patientId: patient(1).id, authorId: AMARA.id, format: "soap", signed: true, daysAgo: 9,
    content: { subjective: "Reports sleeping better since starting the evening routine; anxiety before work meetings persists.", objective: "Calm, good eye contact. GAD-7 score 9, down from 13.", assessment: "Generalised anxiety improving with CBT.", plan: "Continue weekly CBT. Practise the breathing exercise before meetings." },
    addendum: { id: demoId(0x301), body: "Correction: GAD-7 was 10, not 9. Plan unchanged." },
  },
  {
    id: demoId(0x202), patientId: patient(3).id, authorId: AMARA.id, format: "dap", signed: true, daysAgo: 6,
    content: { data: "Daughter attended. Mrs Ní Bhriain recalled two of three words; walking with a frame.", assessment: "Mild cognitive decline, stable since last month.", plan: "Memory clinic referral; review medication with the GP." },
  },
  {
    id: demoId(0x203), patientId: patient(2).id, authorId: MATEO.id, format: "soap", signed: true, daysAgo: 5,
    content: { subjective: "Knee pain after gardening, 4/10.", objective: "Mild swelling of the left knee, full range of motion.", assessment: "Osteoarthritis flare.", plan: "Physiotherapy exercises twice daily; ice after activity." },
  },
  {
    id: demoId(0x204), patientId: patient(4).id, authorId: MATEO.id, format: "free", signed: true, daysAgo: 4,
    content: { text: "Telephone follow-up. Blood pressure diary reviewed: average 128/82. Continues the low-salt diet. No dizziness." },
  },
  {
    id: demoId(0x205), patientId: patient(6).id, authorId: MATEO.id, format: "dap", signed: true, daysAgo: 3,
    content: { data: "Reports low mood for three weeks, poor appetite. PHQ-9 score 14.", assessment: "Moderate depressive episode.", plan: "Start behavioural activation; joint review with Dr Okafor next week." },
  },
  {
    id: demoId(0x206), patientId: patient(7).id, authorId: AMARA.id, format: "soap", signed: true, daysAgo: 2,
    content: { subjective: "Exam stress; headaches most afternoons.", objective: "Tension in neck and shoulders.", assessment: "Tension-type headache linked to stress.", plan: "Sleep hygiene, hydration, progressive muscle relaxation." },
  },
  {
    id: demoId(0x207), patientId: patient(5).id, authorId: AMARA.id, format: "free", signed: false, daysAgo: 1,
    content: { text: "Telehealth session from Auckland. Discussed jet lag after travel; draft plan to follow." },
  },
  {
    id: demoId(0x208), patientId: patient(8).id, authorId: MATEO.id, format: "soap", signed: false, daysAgo: 1,
    content: { subjective: "Neighbour reports missed medication twice this week.", objective: "", assessment: "", plan: "Pill organiser; ask the caregiver to check in each morning." },
  },
  {
    id: demoId(0x209), patientId: patient(1).id, authorId: AMARA.id, format: "dap", signed: false, daysAgo: 0,
    content: { data: "Preparing for a presentation at work; using the breathing exercise.", assessment: "", plan: "" },
  },
];

export interface DemoSchedule {
  id: string;
  patientId: string;
  kind: "medication" | "exercise" | "check_in";
  title: string;
  dose?: string;
  timesOfDay: string[];
  daysOfWeek: number[];
}

/** Care tasks for the patients with a linked app or a caregiver: their reminders fire from the seed on. */
export const DEMO_SCHEDULES: DemoSchedule[] = [
  { id: demoId(0x401), patientId: patient(1).id, kind: "medication", title: "Sertraline", dose: "50 mg", timesOfDay: ["08:00"], daysOfWeek: [1, 2, 3, 4, 5, 6, 7] },
  { id: demoId(0x402), patientId: patient(1).id, kind: "exercise", title: "Breathing exercise", timesOfDay: ["18:30"], daysOfWeek: [1, 2, 3, 4, 5] },
  { id: demoId(0x403), patientId: patient(3).id, kind: "medication", title: "Donepezil", dose: "5 mg", timesOfDay: ["21:00"], daysOfWeek: [1, 2, 3, 4, 5, 6, 7] },
  { id: demoId(0x404), patientId: patient(3).id, kind: "check_in", title: "Morning check-in call", timesOfDay: ["10:00"], daysOfWeek: [1, 3, 5] },
];
