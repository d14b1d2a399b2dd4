using System.Globalization;
using System.Text.Json;
using Floyo.Recovery.Backups;

namespace Floyo.Cli;

/// <summary>What commands print: plain lines for people, clean JSON on stdout for scripts.</summary>
internal static class Output
{
    public static void Json<T>(T value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, Floyo.Recovery.Backups.Json.Options));

    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("F2", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("F1", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };

    /// <summary>A progress line on an interactive terminal only; scripts and logs never see it.</summary>
    public static IProgress<TransferProgress>? Progress()
    {
        if (Console.IsErrorRedirected)
        {
            return null;
        }
        return new SynchronousProgress<TransferProgress>(p =>
            Console.Error.Write($"\r{p.Stage}: {Size(p.SourceBytes)} read, {Size(p.StoredBytes)} written   "));
    }

    public static void EndProgress()
    {
        if (!Console.IsErrorRedirected)
        {
            Console.Error.Write("\r\u001b[K");
        }
    }

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
