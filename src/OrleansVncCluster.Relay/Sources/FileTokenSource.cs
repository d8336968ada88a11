using OrleansVncCluster.Relay.Diagnostics;
using OrleansVncCluster.Relay.Tokens;

namespace OrleansVncCluster.Relay.Sources;

/// <summary>
/// A websockify token file (or a directory of them) as a token source. <see cref="TokenFileWatcher"/> decides when to
/// load it (at start and on every change); the Abiquo source is polled by the sync grain instead. Both write through
/// <see cref="TokenTable"/> under their <see cref="Name"/>.
/// </summary>
/// <remarks>The passwords of <paramref name="passwordFiles"/> (Tokens:PasswordFiles) join the entries of the tokens they
/// name, so the relay can log in to those consoles itself.</remarks>
internal sealed partial class FileTokenSource(string path, IReadOnlyList<string> passwordFiles, TimeProvider time, ILogger logger) : ITokenSource
{
    /// <summary>The token-source name of a file: every node that loads the same path owns the same set.</summary>
    public string Name { get; } = "file:" + Path.GetFullPath(path);

    /// <summary>The lines the last load skipped (each is logged with its file and line).</summary>
    public int SkippedLines { get; private set; }

    /// <inheritdoc/>
    public Task<IReadOnlyDictionary<string, ConsoleTokenEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        var content = TokenFile.Load(path);
        foreach (var error in content.Errors)
        {
            LogLineSkipped(logger, error.File, error.Line, error.Message);
        }

        var (passwords, passwordErrors) = TokenPasswordFile.Load(passwordFiles);
        foreach (var error in passwordErrors)
        {
            LogLineSkipped(logger, error.File, error.Line, error.Message);
        }

        SkippedLines = content.Errors.Count + passwordErrors.Count;
        var now = time.GetUtcNow();
        IReadOnlyDictionary<string, ConsoleTokenEntry> desired = content.Tokens.ToDictionary(
            pair => pair.Key,
            pair => new ConsoleTokenEntry { Target = pair.Value, Password = passwords.GetValueOrDefault(pair.Key), Source = Name, SetAt = now },
            StringComparer.Ordinal);
        return Task.FromResult(desired);
    }

    [LoggerMessage(EventId = EventIds.TokenFileLineSkipped, Level = LogLevel.Warning, Message = "Token file {File} line {Line} skipped: {Problem}")]
    private static partial void LogLineSkipped(ILogger logger, string file, int line, string problem);
}
