namespace OrleansVncCluster.Relay.Tickets;

/// <summary>What a verified ticket grants: one VM token, until an instant, maybe once.</summary>
/// <param name="KeyId">The key that signed it.</param>
/// <param name="Token">The console token (VM) it opens.</param>
/// <param name="ExpiresAt">After this instant it no longer opens a console; a session opened before it lives on.</param>
/// <param name="Nonce">Random, unique per ticket: the key of its single-use redemption.</param>
/// <param name="SingleUse">True when the cluster lets it open one session only.</param>
/// <param name="ViewOnly">True for a "view" ticket: the session watches, its input never reaches the VM.</param>
public sealed record ConsoleTicket(string KeyId, string Token, DateTimeOffset ExpiresAt, string Nonce, bool SingleUse, bool ViewOnly = false);
