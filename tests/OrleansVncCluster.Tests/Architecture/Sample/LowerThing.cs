namespace OrleansVncCluster.Tests.Architecture.Sample.Lower;

/// <summary>Sample for the architecture test's own test: a lower floor that reaches up, only in a method body.</summary>
public static class LowerThing
{
    public static int Twice() => 2 * Upper.UpperThing.Answer();
}
