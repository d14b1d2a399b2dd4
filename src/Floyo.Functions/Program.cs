using Floyo.Functions;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

FloyoFunctionsApp.Configure(FunctionsApplication.CreateBuilder(args)).Build().Run();
