using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace OrleansVncCluster.Tests.Fuzzing;

/// <summary>
/// Property checks with a fixed budget and a fixed seed, so a run is repeatable and a failure can be replayed: FsCheck
/// reports the seed and the shrunk input in its failure message.
/// </summary>
internal static class Fuzz
{
    /// <summary>The seed every property starts from.</summary>
    public const ulong Seed = 0x0_2026_1123;

    /// <summary>Odd, as SplitMix's gamma must be.</summary>
    private const ulong Gamma = 0x9E37_79B9_7F4A_7C15;

    /// <summary>Runs <paramref name="property"/> on <paramref name="tests"/> inputs from <paramref name="generator"/>; it fails by throwing.</summary>
    public static void Check<T>(Gen<T> generator, Action<T> property, int tests = 1000)
    {
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(tests)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed, Gamma), FSharpOption<int>.None)));
        try
        {
            FsCheck.Check.One(config, Prop.ForAll(Arb.From(generator), property));
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            throw new Xunit.Sdk.XunitException($"property failed with fixed seed {Seed} (gamma {Gamma:X}): {exception.Message}");
        }
    }

    /// <summary>Text made mostly of the characters a grammar cares about, with some arbitrary ones.</summary>
    public static Gen<string> TextOf(string interesting) =>
        Gen.Frequency(
                (8, Gen.Elements(interesting.ToCharArray())),
                (1, Gen.Choose(0, 0xD7FF).Select(c => (char)c)),
                (1, Gen.Choose(0, 127).Select(c => (char)c)))
            .ArrayOf()
            .Select(chars => new string(chars));
}
