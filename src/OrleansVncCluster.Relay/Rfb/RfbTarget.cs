namespace OrleansVncCluster.Relay.Rfb;

/// <summary>One VNC server to log in to.</summary>
/// <param name="Address">The address dialled (host name or IP literal); the server certificate may name it.</param>
/// <param name="Name">The name the token source gave the target, which the certificate may name instead; null if none.</param>
/// <param name="Password">The VNC password, or null when none is known.</param>
public sealed record RfbTarget(string Address, string? Name = null, string? Password = null)
{
    /// <summary>Never prints the password: records print every property, and targets end up in logs.</summary>
    public override string ToString() =>
        $"RfbTarget {{ Address = {Address}, Name = {Name}, Password = {(Password is null ? "none" : "(set)")} }}";
}
