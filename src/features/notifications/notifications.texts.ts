/**
 * What notifications say. A push shows on a lock screen, an SMS on a watch, a mail in a shared
 * inbox: no text here names a patient, a drug, a dose or a diagnosis. It says what kind of thing
 * happened and asks the person to open Tend, where the detail is behind their sign-in. (A
 * medication reminder naming its drug, for patients who opt in, is a follow-up: see the README.)
 */
export const TEXTS = {
  reminder: {
    title: "Tend reminder",
    body: {
      medication: "It's time for your medication. Open Tend to confirm.",
      exercise: "It's time for your exercise. Open Tend to confirm.",
      check_in: "It's time to check in. Open Tend to confirm.",
      appointment: "You have an appointment coming up. Open Tend for the details.",
    },
  },
  alert: {
    title: "Tend alert",
    created: (severity: string) => `A ${severity}-priority alert needs your attention. Open Tend to see it.`,
    escalated: (severity: string) => `A ${severity}-priority alert is still unacknowledged. Open Tend to see it.`,
    voice:
      "This is Tend. A critical alert for someone in your care has not been acknowledged. Please open the Tend app to see it and acknowledge it.",
  },
  daily: {
    title: "Your Tend daily summary",
    /** SQL format(): the open alerts, then the reminders missed in the last 24 hours. */
    bodyFormat: "Open alerts: %s. Missed reminders in the last 24 hours: %s. Open Tend for the details.",
  },
} as const;

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** The call's TwiML: the message twice (the first may be missed while the phone is lifted). */
export function twimlFor(spoken: string): string {
  const text = spoken.replace(/[&<>"']/g, (char) => XML_ESCAPES[char] ?? char);
  return `<Response><Say>${text}</Say><Pause length="1"/><Say>${text}</Say></Response>`;
}

/** An email's text: the notification's, and the app's address. */
export const emailText = (body: string, appUrl: string): string => `${body}\n\n${appUrl}\n\nYou can change which notifications you get in Tend's settings.`;
