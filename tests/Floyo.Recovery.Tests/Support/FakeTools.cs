namespace Floyo.Recovery.Tests.Support;

/// <summary>Executable shell scripts standing in for (or wrapping) PostgreSQL client tools, via PG_BIN_DIR.</summary>
public static class FakeTools
{
    public static void Write(string directory, string tool, string body)
    {
        var path = Path.Combine(directory, tool);
        File.WriteAllText(path, $"#!/bin/sh\n{body}\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Links the real tool into <paramref name="directory"/>, so only the faked ones differ.</summary>
    public static void Real(string directory, string tool) =>
        File.CreateSymbolicLink(Path.Combine(directory, tool), Which(tool));

    public static string Which(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, tool)).First(File.Exists);
}
