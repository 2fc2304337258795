/** Replaces a test provider's fault settings (`{}` clears them): PUT /_faults, which tests enable. */
export async function putProviderFaults(provider: { providerUrl: string; providerApiKey: string }, faults: object): Promise<void> {
  const response = await fetch(`${provider.providerUrl}/_faults`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${provider.providerApiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (response.status !== 200) throw new Error(`PUT /_faults answered ${response.status}: ${await response.text()}`);
}
